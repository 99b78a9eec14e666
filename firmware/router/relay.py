"""The secondary (load-shedding) relay: EcoPV's semantics, deciding on the measured surplus.

Once a second, with EMAs of time constant T_DIV2_TC minutes:
- AUTO: on when the filtered surplus (PV minus house loads = routed - grid) reaches
  P_DIV2_ACTIVE and the minimum off time has passed; off when the filtered grid import
  reaches P_DIV2_IDLE and the minimum on time has passed. (EcoPV used the routed power as
  the surplus, so an open thermostat, which saturates the SSR, switched the relay on.)
- STOP: off. FORCE: on. Timers only run in AUTO.
"""
from router.status import FORCE, AUTO


class Relay:
    def __init__(self):
        self.mode = AUTO
        self.on = False
        self.on_cnt = 0
        self.off_cnt = 0
        self.grid_f = 0.0
        self.surplus_f = 0.0

    def configure(self, p_active, p_idle, t_on_min, t_off_min, tc_min):
        self.p_active = p_active
        self.p_idle = p_idle
        self.t_on = int(t_on_min) * 60
        self.t_off = int(t_off_min) * 60
        self.alpha = 1.0 / (1 + 60 * tc_min)

    def set_mode(self, mode):
        """STOP, FORCE or AUTO (checked by the router's interface)."""
        self.mode = mode
        self.on_cnt = self.off_cnt = 0

    def second(self, grid_w, routed_w):
        """Advance one second with that second's mean grid and routed power; returns on/off."""
        a = self.alpha
        self.grid_f += a * (grid_w - self.grid_f)
        self.surplus_f += a * (routed_w - grid_w - self.surplus_f)
        if self.mode != AUTO:
            self.on_cnt = self.off_cnt = 0
            self.on = self.mode == FORCE
            return self.on
        if not self.on and self.off_cnt == 0 and self.surplus_f >= self.p_active:
            self.on = True
            self.on_cnt = self.t_on
        elif self.on_cnt > 0:
            self.on_cnt -= 1
        elif self.on and self.grid_f >= self.p_idle:
            self.on = False
            self.off_cnt = self.t_off
        elif self.off_cnt > 0:
            self.off_cnt -= 1
        return self.on
