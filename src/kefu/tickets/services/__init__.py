"""Work-order rules. Views, the API, consumers and jobs call these; nothing else writes a work order."""

from kefu.tickets.services.bulk import (
    BulkReplyResult,
    BulkResult,
    bulk_apply,
    register_bulk_ticket_hook,
    reply_and_resolve_many,
)
from kefu.tickets.services.common import register_ticket_hook
from kefu.tickets.services.conversation import (
    add_attachment,
    add_customer_message,
    add_note,
    add_reply,
    canned_for,
    check_upload,
    render_canned,
)
from kefu.tickets.services.create import (
    allocate_number,
    create_ticket,
    default_team,
    reserved_numbers,
)
from kefu.tickets.services.fields import EDITABLE_FIELDS, update_ticket
from kefu.tickets.services.lifecycle import (
    allowed_moves,
    assign_ticket,
    escalate_ticket,
    link_tickets,
    merge_tickets,
    needs_reply,
    set_parent,
    transition_ticket,
    unlink_tickets,
)
from kefu.tickets.services.transfers import (
    reply_to_transfer,
    return_transfer,
    review_transfer,
    transfer_ticket,
    withdraw_transfer,
)

__all__ = [
    "EDITABLE_FIELDS",
    "BulkReplyResult",
    "BulkResult",
    "add_attachment",
    "add_customer_message",
    "add_note",
    "add_reply",
    "allocate_number",
    "reserved_numbers",
    "allowed_moves",
    "assign_ticket",
    "bulk_apply",
    "canned_for",
    "check_upload",
    "create_ticket",
    "default_team",
    "escalate_ticket",
    "link_tickets",
    "merge_tickets",
    "needs_reply",
    "register_bulk_ticket_hook",
    "register_ticket_hook",
    "reply_and_resolve_many",
    "render_canned",
    "reply_to_transfer",
    "return_transfer",
    "review_transfer",
    "set_parent",
    "transfer_ticket",
    "transition_ticket",
    "unlink_tickets",
    "update_ticket",
    "withdraw_transfer",
]
