"""A locustfile without users, loaded beside the profile's: ``--time-dilation K`` divides every user's waits by K.

Time dilation (docs/budgets.md) sends the load K times as fast as a Pi would see it, and the suite multiplies the
latencies by K. The users arrive at the profile's own rate: each logs in once, and a gateway's login limit counts
real seconds. Locust is imported only when locust itself loads this file, never by the suite: importing it patches
the whole process with gevent.
"""

import sys

OPTION = "--time-dilation"


def add_option(parser) -> None:
    parser.add_argument(OPTION, type=float, default=1.0, help="divide every user's wait_time by this factor")


def dilate(environment, **_kwargs) -> None:
    """Make each user class wait ``1/K`` as long between its tasks, once: a subclass that inherits its waits from
    another user class is not divided again.

    >>> class Environment: parsed_options, user_classes = type("Options", (), {"time_dilation": 2.0}), []
    >>> class User: wait_time = lambda self: 3.0
    >>> class Admin(User): pass
    >>> Environment.user_classes += [User, Admin]; dilate(Environment); User().wait_time(), Admin().wait_time()
    (1.5, 1.5)
    """
    factor = getattr(environment.parsed_options, "time_dilation", 1.0)
    if factor == 1.0:
        return
    for user in environment.user_classes:
        waits = user.wait_time
        if not getattr(waits, "dilated", False):
            user.wait_time = lambda self, waits=waits: waits(self) / factor
            user.wait_time.dilated = True


if "locust" in sys.modules:  # loaded by locust
    from locust import events

    events.init_command_line_parser.add_listener(add_option)
    events.init.add_listener(dilate)
