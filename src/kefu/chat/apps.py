from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "kefu.chat"
    label = "chat"
    verbose_name = _("Live chat")

    def ready(self) -> None:
        from kefu.chat import setup

        setup.register()
        _shorter_layer_wait()


def _shorter_layer_wait() -> None:
    """channels_redis waits for a socket's next message with BZPOPMIN for ``brpop_timeout``
    (5 s), while redis-py ≥ 6 stops reading after its default ``socket_timeout`` — also 5 s. A
    reply that comes back a moment late then raises "Timeout reading", which kills the consumer
    and drops every idle socket within seconds under load. A 2-second wait keeps the
    server-side timeout well inside the client's (a ``socket_timeout`` in CHANNEL_LAYERS' host
    entry does the same)."""
    try:
        from channels_redis.core import RedisChannelLayer
    except ImportError:  # embedded mode without channels_redis
        return
    RedisChannelLayer.brpop_timeout = min(RedisChannelLayer.brpop_timeout, 2)
