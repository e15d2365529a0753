from django.shortcuts import redirect
from django.urls import path

from kefu.tickets.views import create, files, ticket, transfers, webhooks, workspace

app_name = "tickets"

urlpatterns = [
    path("", workspace.workspace, name="list"),
    path("counts/", workspace.counts, name="counts"),
    path("bulk/", workspace.bulk, name="bulk"),
    path("filters/", workspace.save_filter, name="save_filter"),
    path("filters/<id:filter_id>/delete/", workspace.delete_filter, name="delete_filter"),
    path("new/", create.create, name="create"),
    path("new/fields/", create.custom_fields, name="custom_fields"),
    path("new/customer/<id:customer_id>/", create.intake_customer, name="intake_customer"),
    path("setup/", lambda request: redirect("/admin/tickets/"), name="config"),
    path("transfers/", transfers.inbox, name="transfers"),
    path("transfers/<id:transfer_id>/", transfers.transfer_detail, name="transfer"),
    path("transfers/<id:transfer_id>/answer/", transfers.answer, name="transfer_answer"),
    path("transfers/<id:transfer_id>/review/", ticket.review, name="transfer_review"),
    path("files/<id:attachment_id>/", files.download, name="attachment"),
    path("webhooks/", webhooks.webhook_list, name="webhooks"),
    path("webhooks/<id:webhook_id>/", webhooks.webhook_detail, name="webhook"),
    path("<str:number>/", ticket.detail, name="detail"),
    path("<str:number>/timeline/", ticket.timeline_partial, name="timeline"),
    path("<str:number>/reply/", ticket.reply, name="reply"),
    path("<str:number>/fields/", ticket.update_fields, name="fields"),
    path("<str:number>/assign/", ticket.assign, name="assign"),
    path("<str:number>/move/", ticket.move, name="move"),
    path("<str:number>/escalate/", ticket.escalate, name="escalate"),
    path("<str:number>/transfer/", ticket.transfer, name="transfer_create"),
    path("<str:number>/merge/", ticket.merge, name="merge"),
    path("<str:number>/link/", ticket.link, name="link"),
    path("<str:number>/canned/<id:canned_id>/", ticket.canned, name="canned"),
    path("<str:number>/draft/", ticket.draft, name="draft"),
]
