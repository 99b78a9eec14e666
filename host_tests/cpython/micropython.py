"""CPython stand-in for MicroPython's `micropython` module (host tests only, never deployed).

Lets the firmware's pure logic and the simulated board run under CPython: the native
emitters become plain functions and viper's pointer casts become the identity.
"""
import builtins


def const(x):
    return x


def viper(f):
    return f


native = viper


def _identity(x):
    return x


# viper code reads and writes arrays through ptr8/16/32; a Python array indexes the same way.
builtins.ptr8 = builtins.ptr16 = builtins.ptr32 = _identity


def heap_lock():
    return 0


def heap_unlock():
    return 0
