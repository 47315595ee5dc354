"""A virtual Meshtastic radio: the device side of the stream API over TCP, on a simulated channel.

The real ``meshtastic`` CLI and library (and the daemon's Meshtastic transport) connect to
``127.0.0.1:PORT`` as to a radio on a desk; packets travel between the virtual radios with
LoRa airtime, collisions, duty-cycle limits and Meshtastic's managed flooding.
"""

from simulator.virtual_radio.network import NetworkOptions, RadioNetwork
from simulator.virtual_radio.sites import Scenario, load_scenario

__all__ = ["NetworkOptions", "RadioNetwork", "Scenario", "load_scenario"]
