"""The region tree (địa bàn): import, browse, search, and the cascading region picker."""
