"""The one LoRa channel model every host uses: the discrete-event world, the demo's air, the virtual radios.

* :mod:`~simulator.channel.propagation`: link budgets (log-distance path loss, antenna height,
  sensitivity, demodulator floors);
* :mod:`~simulator.channel.links`: the per-run table of who hears whom at what mean power;
* :mod:`~simulator.channel.medium`: per-frame fading, capture with preamble lock, other
  modulations, half duplex, CAD, channel utilisation and delivery;
* :mod:`~simulator.channel.dutycycle`: the regional duty-cycle ledger of a radio;
* :mod:`~simulator.channel.contention`: the firmware's contention-window and relay-delay rules;
* :mod:`~simulator.channel.background`: foreign traffic sharing the slot.

Time on air and on-air sizes stay in :mod:`node.lora`. Nothing here reads a clock: hosts pass
integer ticks (microseconds) of their own clock.
"""
