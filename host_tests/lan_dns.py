"""The LAN's DNS server for the tests (dnspython on a loopback UDP port): answers the names it
is given with their IPv4 address and NXDOMAIN to anything else, while `up`; counts what it
is asked. The Wi-Fi watchdog's target (test_wifi.py) and the broker's name (test_mqtt.py)."""
import socket
import threading

import dns.message
import dns.rcode
import dns.rrset


class LanDns:
    def __init__(self, names=None):
        self.names = names or {}
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]
        self.up = True
        self.asked = 0
        self.alive = True
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while self.alive:
            try:
                data, peer = self.s.recvfrom(512)
            except OSError:
                continue
            self.asked += 1
            if not self.up:
                continue
            try:
                q = dns.message.from_wire(data)
            except Exception:
                continue
            r = dns.message.make_response(q)
            name = q.question[0].name.to_text(omit_final_dot=True) if q.question else ""
            if name in self.names:
                r.answer.append(dns.rrset.from_text(name + ".", 60, "IN", "A", self.names[name]))
            else:
                r.set_rcode(dns.rcode.NXDOMAIN)        # still there: an answer all the same
            self.s.sendto(r.to_wire(), peer)

    def close(self):
        self.alive = False
