"""The KPI names and help texts shown in the UI (the definitions are in ``kpi.py`` and
``docs/calls.md``; keep the three in step)."""

from django.utils.translation import gettext_lazy as _

KPI_LABELS = {
    "offered": _("Offered"),
    "answered": _("Answered"),
    "abandoned": _("Abandoned"),
    "short_abandoned": _("Short abandons"),
    "abandon_rate": _("Abandonment rate"),
    "answer_rate": _("Answer rate (人工接通率)"),
    "asa_s": _("ASA (s)"),
    "talk_avg_s": _("Average talk time (s)"),
    "acw_avg_s": _("Average ACW (s)"),
    "aht_s": _("AHT (s)"),
    "sl_answered": _("Service level, answered basis"),
    "sl_offered": _("Service level, offered basis"),
    "timely_rate": _("Timely pick-up (接听及时率)"),
    "longest_wait_s": _("Longest wait (s)"),
    "occupancy": _("Occupancy"),
}

KPI_HELP = {
    "offered": _(
        "Calls that asked for an agent: entered a queue or were put through to an agent. Calls that ended in the voice menu are not counted."
    ),
    "answered": _("Offered calls an agent picked up."),
    "abandoned": _(
        "Offered calls the caller left before an agent picked up: hung up, timed out, pressed a key to leave, or the queue emptied."
    ),
    "short_abandoned": _(
        "Abandoned after waiting less than the short-abandon threshold; left out of the abandonment rate and the offered-basis service level."
    ),
    "abandon_rate": _("(abandoned − short abandons) ÷ (offered − short abandons)."),
    "answer_rate": _("Answered ÷ offered."),
    "asa_s": _("Average speed of answer: total queue wait of answered calls ÷ answered calls."),
    "talk_avg_s": _("Total talk time ÷ answered calls."),
    "acw_avg_s": _("Total after-call work ÷ answered calls."),
    "aht_s": _("Average handle time: (talk + hold + after-call work) ÷ answered calls."),
    "sl_answered": _("Calls answered within Y seconds ÷ answered calls."),
    "sl_offered": _(
        "Calls answered within Y seconds ÷ (offered − short abandons). The 80/20 target is this figure at Y = 20 s."
    ),
    "timely_rate": _(
        "Answered calls the agent picked up within R seconds of ringing ÷ answered calls whose ring time is known."
    ),
    "longest_wait_s": _("The longest queue wait of any offered call, answered or not."),
    "occupancy": _(
        "(talk + hold + after-call work) ÷ staffed time (agents logged in and not paused). Shown only where the PBX reports agent sessions."
    ),
}
