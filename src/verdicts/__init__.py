"""The verdict (kết quả) for one person at one moment: colour, the measure that applies and
every reason, from every input — health declarations, arrivals, venue stays under point
policies, the chip card's name. The only place these rules live; every screen asks it."""
