"""Arrivals into the province (khai báo về địa phương): the trip form, storing and
reading arrivals, and the lists local officials see of who arrived in their area."""
