"""Smart order routing: split an order across venues by cost to fill net of each venue's taker fee."""

from kimera.routing.sor import ChildOrder, RoutePlan, RoutingError, VenueBook, route, route_consolidated

__all__ = ["ChildOrder", "RoutePlan", "RoutingError", "VenueBook", "route", "route_consolidated"]
