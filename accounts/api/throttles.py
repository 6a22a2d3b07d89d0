"""Attempt limits per client address. Failed passwords (per account and address, per address, per
account) are limited by ``accounts.lockout`` on every path that checks one."""

from core.throttles import IPRateThrottle


class LoginIPThrottle(IPRateThrottle):
    scope = "login_ip"


class RegisterIPThrottle(IPRateThrottle):
    scope = "register_ip"


class RefreshIPThrottle(IPRateThrottle):
    scope = "refresh"
