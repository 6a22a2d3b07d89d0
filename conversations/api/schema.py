"""The OpenAPI description of the catalog, conversations and staff APIs (``views.py``), of the reply's
stream (``stream.py``, WebSocket included) and of the subscription part of the settings
(``subscription.py``): one declaration per view."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from accounts.api.schema import settings_part
from core.openapi import ErrorSerializer, view_schema

from ..streaming.events import CREATED_EVENT, LAST_EVENT_ID_MAX, EventName
from . import serializers as s

_LIMIT = OpenApiResponse(
    ErrorSerializer,
    "A plan limit was reached: daily_quota_exceeded (the day's messages; the day turns over at midnight in "
    "the user's `time_zone`, UTC when none is saved) or too_many_generations",
)
_CONFLICT = OpenApiResponse(ErrorSerializer, "generation_in_progress: a reply is still being generated here")
# What a message's attachments can be refused for (sending, a conversation's first message).
_ATTACHMENT_REFUSALS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        "Invalid input: `{field: [messages]}` for the fields at fault (a blank text needs attachments), or "
        "`{detail, code}`: model_cannot_read_images, an image attached for a model without the vision "
        "capability (refused before any upstream call), or a body that cannot be read.",
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        "Not found (also for anything that is not yours); files_not_found: attachments naming files that are "
        "not yours or do not exist (the detail names their ids)",
    ),
    409: OpenApiResponse(
        ErrorSerializer,
        "generation_in_progress: a reply is still being generated here; attachment_failed: an attached file "
        "could not be read (the detail names it)",
    ),
}
_ATTACHMENTS_DESCRIPTION = (
    "`attachments`: ids of your files (`POST /files`), at most 10; the text may then be blank. Images go to "
    "models whose `capabilities` include `vision`, as image parts (resized, longer side at most "
    "`CHAT_IMAGE_MAX_SIDE`). Documents are not pasted: for each reply the passages most relevant to the "
    "question are chosen from this message's files, the conversation's earlier files and its collector "
    "items, and the reply lists them as `sources` (announced by the stream's `sources` event). A file still "
    "being read is waited for, at most `CHAT_ATTACHMENT_WAIT_SECONDS` (60); then the reply ends with the "
    "error `attachments_not_ready`."
)
_WAIT = OpenApiParameter(
    "wait",
    bool,
    description="true: answer once the reply has finished (201 with it); a reply still going after "
    "`CHAT_WAIT_SECONDS` (300) is answered 202 as without `wait`, and goes on.",
)


# "<message id>:<n>", or a bare n (older clients).
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_EVENT_ID = {
    "type": "string",
    # At most LAST_EVENT_ID_MAX - 1: digits enough for any reply, and every such number is taken.
    "pattern": f"^({_UUID}:)?[0-9]{{1,{len(str(LAST_EVENT_ID_MAX)) - 1}}}$",
    "maxLength": 46,
}
# One Server-Sent Event, as a client's parser sees it; `data` is the JSON payload the description
# lists per event.
_SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": [CREATED_EVENT, *(name.value for name in EventName)]},
        "id": {"type": "string", "pattern": f"^{_UUID}:[0-9]+$"},
        "data": {"type": "string", "description": "The event's payload, JSON."},
    },
}

_STREAMED_REPLY = OpenApiResponse(
    _SSE_EVENT,
    "With `Accept: text/event-stream`: `message.created`, then the reply's events as `GET "
    "/conversations/{id}/stream` sends them (see its description).",
)


def _one_request(description: str) -> str:
    return (
        description + "\n\n**One request per reply:** with `Accept: text/event-stream` (preferred over JSON) the "
        "answer is the reply's stream itself (200, `text/event-stream`): first a `message.created` event whose "
        "`data` is what the JSON answer would say plus `conversation_id`, then the reply's events as "
        "`GET /conversations/{id}/stream` sends them, with the same ids: resume there with `Last-Event-ID`. "
        "`?wait` is then ignored. Whatever is refused before the reply exists (400, 401, 404, 409, 429) is "
        "still JSON with its status."
    )


def _sending(*, responses: dict, description: str, **kwargs):
    """An operation that asks the model: 202 with the pending reply (201 finished, with ``?wait=true``),
    or (``Accept: text/event-stream``) the reply's stream."""
    return extend_schema(
        parameters=[_WAIT],
        description=_one_request(description),
        responses={
            202: OpenApiResponse(s.MessageSentSerializer, "Accepted: the reply is being generated; follow stream_url"),
            201: OpenApiResponse(s.MessageSentSerializer, "With ?wait=true: the finished reply"),
            (200, "text/event-stream"): _STREAMED_REPLY,
            429: _LIMIT,
            **responses,
        },
        **kwargs,
    )


# --- public catalog ---------------------------------------------------------------------------

MODELS = view_schema(tags=["catalog"], list=extend_schema(summary="List the models you can chat with"))

PROMPTS = view_schema(
    tags=["catalog"],
    list=extend_schema(
        summary="List the prompt library",
        parameters=[s.PromptQuerySerializer],
        responses={200: s.PromptSerializer(many=True)},
    ),
)

# --- conversations ----------------------------------------------------------------------------

# What the conversation's own rules refuse on every write (core.openapi.ApiAutoSchema reads it).
CONVERSATION_REFUSALS = {
    403: OpenApiResponse(ErrorSerializer, "model_not_in_plan: your plan does not include that model")
}

_CONVERSATION_WRITE = {"request": s.ConversationUpdateSerializer, "responses": {200: s.ConversationSerializer}}

CONVERSATIONS = view_schema(
    tags=["conversations"],
    list=extend_schema(
        summary="List or search your conversations",
        parameters=[s.ConversationListQuerySerializer],
        responses={200: s.ConversationSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Start a conversation (optionally with its first message)",
        description=_one_request(_ATTACHMENTS_DESCRIPTION)
        + " With a first `message`, `message.created` also carries `conversation` (the new conversation); "
        "without one, the answer is the JSON 201.",
        request=s.ConversationCreateSerializer,
        parameters=[_WAIT],
        responses={
            201: s.ConversationCreatedSerializer,
            (200, "text/event-stream"): _STREAMED_REPLY,
            **_ATTACHMENT_REFUSALS,
            404: OpenApiResponse(
                ErrorSerializer,
                "Not found; files_not_found: attachments naming files that are not yours or do not exist; "
                "items_not_found: `item_ids` naming collector items that are not yours (the detail names their ids)",
            ),
            429: _LIMIT,
        },
    ),
    retrieve=extend_schema(summary="Get one of your conversations", responses={200: s.ConversationSerializer}),
    update=extend_schema(summary="Change a conversation's title, model, pin or archive", **_CONVERSATION_WRITE),
    partial_update=extend_schema(
        summary="Change some of a conversation's settings, or the version shown",
        description=(
            "`current_message_id` switches the version shown (‹ n/m › in a client): the active path goes "
            "through that message (any message of the conversation, e.g. one of a message's `sibling_ids`) "
            "and continues down its newest replies; the answer's `current_message_id` is the leaf reached. "
            "Nothing is deleted or hidden by switching, and a reply being generated on another branch "
            "finishes there."
        ),
        **_CONVERSATION_WRITE,
    ),
    destroy=extend_schema(summary="Delete a conversation", responses={204: None}),
    messages=[
        extend_schema(
            methods=["GET"],
            summary="List the messages of the active path, first message first",
            description=(
                "A conversation is a tree: every message has a `parent_id` (null for a first message), and "
                "the messages with the same parent are versions of one turn (`sibling_ids`, oldest first, "
                "itself included). This lists the active path: from a first message down to the "
                "conversation's `current_message_id`. Other versions are never deleted; switch to one with "
                "`PATCH /conversations/{id} {current_message_id}`."
            ),
            responses={200: s.MessageSerializer(many=True)},
        ),
        _sending(
            methods=["POST"],
            summary="Send a message (or an edited one); the reply streams from stream_url",
            description=(
                "The message goes under `parent_id` (default: the current leaf; null: a new first message; "
                "else a reply of this conversation). To edit any message of yours, send the new text with "
                "the edited message's `parent_id`: it becomes a new version beside the old one (which stays), "
                "and its reply the current leaf. Costs one message of the day's quota.\n\n" + _ATTACHMENTS_DESCRIPTION
            ),
            request=s.MessageCreateSerializer,
            responses=_ATTACHMENT_REFUSALS,
        ),
    ],
    stop=extend_schema(
        summary="Stop the reply being generated",
        request=s.StopSerializer,
        responses={
            202: s.StopResponseSerializer,
            404: OpenApiResponse(ErrorSerializer, "Not found; message_not_found: no such message here"),
            409: OpenApiResponse(ErrorSerializer, "nothing_in_flight: no reply is being generated"),
        },
    ),
    regenerate_message=_sending(
        summary="Generate a new version of a reply; it streams from stream_url",
        description=(
            "Any reply of the conversation: a new reply to the same question (a sibling: the old one stays, "
            "one step away in `sibling_ids`), generated from the path above it only, becomes the current "
            "leaf. No new question is made: `user_message` is the question answered. Costs one message of the "
            "day's quota, as sending does."
        ),
        request=s.RegenerateSerializer,
        responses={
            404: OpenApiResponse(
                ErrorSerializer, "Not found (also for anything that is not yours); message_not_found: no such message"
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                "not_assistant_message: that message is not a reply; generation_in_progress: that reply is still "
                "being generated; nothing_to_regenerate: it answers no message",
            ),
        },
    ),
    branch=extend_schema(
        summary="Branch in a new chat: copy the path up to a message into a new conversation",
        description=(
            "A new conversation of yours holding a copy of the active path's messages from the first one down "
            "to this message (any message of the conversation: the path through it), with the chat's model, "
            "system prompt and collector items; its `origin_kind` is `branch` and `origin_id` this "
            "conversation's id. The original is not changed. Nothing is asked of the model."
        ),
        request=None,
        responses={
            201: s.ConversationSerializer,
            404: OpenApiResponse(
                ErrorSerializer, "Not found (also for anything that is not yours); message_not_found: no such message"
            ),
            409: OpenApiResponse(ErrorSerializer, "generation_in_progress: that reply is still being generated"),
        },
    ),
    regenerate=_sending(
        summary="Answer the last message again; the new reply streams from stream_url",
        description=(
            "`POST .../messages/{message_id}/regenerate` on the active path's last reply: a new version of it "
            "(the old one stays, in `sibling_ids`). `user_message` is the question answered (not a copy). "
            "Costs one message of the day's quota, as sending does."
        ),
        request=s.RegenerateSerializer,
        responses={
            409: OpenApiResponse(
                ErrorSerializer,
                "nothing_to_regenerate: the conversation has no message of yours; "
                "generation_in_progress: a reply is still being generated here",
            ),
        },
    ),
    edit=_sending(
        summary="Edit your last message and answer it; the new reply streams from stream_url",
        description=(
            "Sends new text for the active path's last message of yours: `POST .../messages` with its "
            "`parent_id` (and its files). The old message and its reply stay, as the other version "
            "(`sibling_ids`). To edit an earlier message, use that call directly. Costs one message of the "
            "day's quota, as sending does."
        ),
        request=s.EditSerializer,
        responses={
            404: OpenApiResponse(
                ErrorSerializer,
                "Not found (also for anything that is not yours); message_not_found: no such message here",
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                "not_last_message: that is not the conversation's last message of yours; "
                "generation_in_progress: a reply is still being generated here",
            ),
        },
    ),
    continue_reply=extend_schema(
        summary="Continue a reply cut at the length limit; the new reply streams from stream_url",
        description=(
            "Goes on with a reply that nothing follows yet when it stopped at the model's output limit "
            "(`status` `complete`, `finish_reason` `length`). A new assistant reply is made under it (the cut "
            "one stays as it is; the new one's `continues` names it), generated from the conversation with the "
            "cut reply as the last assistant turn followed by a short instruction to go on from exactly where "
            "it stopped without repeating it (a trailing assistant turn alone is not continued by every "
            "OpenAI-compatible server). It streams from stream_url like any reply and costs one message of "
            "the day's quota, as sending does; the plan's limits apply the same way. 201 with the pending "
            "reply (with `?wait=true`, once it has finished)."
            "\n\n**One request per reply:** with `Accept: text/event-stream` (preferred over JSON) the answer is "
            "the new reply's stream itself (200, `text/event-stream`): first a `message.created` event whose "
            "`data` is what the JSON answer would say plus `conversation_id`, then the reply's events as "
            "`GET /conversations/{id}/stream` sends them, with the same ids. `?wait` is then ignored; whatever is "
            "refused before the reply exists is still JSON with its status."
        ),
        request=None,
        parameters=[
            OpenApiParameter(
                "wait",
                bool,
                description="true: answer once the reply has finished; a reply still going after "
                "`CHAT_WAIT_SECONDS` (300) is answered as it stands (still 201), and goes on.",
            )
        ],
        responses={
            201: s.ReplyContinuedSerializer,
            (200, "text/event-stream"): _STREAMED_REPLY,
            404: OpenApiResponse(
                ErrorSerializer,
                "Not found (also for another user's conversation); message_not_found: no such message here",
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                "not_assistant_message: that message is not a reply; not_last_message: something follows it "
                "already; not_cut_off: it did not stop at the length limit; "
                "generation_in_progress: a reply is still being generated here",
            ),
            429: _LIMIT,
        },
    ),
    context_items=[
        extend_schema(
            methods=["GET"],
            summary="The collector items given to the model as context",
            responses={200: s.ContextItemsSerializer},
        ),
        extend_schema(
            methods=["PUT"],
            summary="Choose the collector items given to the model as context",
            request=s.ContextItemsInputSerializer,
            responses={200: s.ContextItemsSerializer},
        ),
    ],
    feedback=extend_schema(
        summary="Rate a message (one rating per user and message, changeable)",
        request=s.FeedbackCreateSerializer,
        responses={201: s.FeedbackSerializer, 200: s.FeedbackSerializer},
    ),
)

# --- the reply's stream ----------------------------------------------------------------------

_STREAM_DESCRIPTION = """
Server-Sent Events of one reply: the one `?message_id=` names, else the one your `Last-Event-ID`
belongs to, else the current leaf's reply (or the newest reply). Replies on several branches of a
conversation may be generated at once; each stream follows one.

Events, each with `id: <message id>:<n>` (`n` increases by one per event of that reply, so an id
is unique across the conversation's replies):
- `message.created` `{conversation_id, user_message, assistant_message, stream_url, conversation?}`, id
  `<reply id>:0`: only on a send's own stream (`POST .../messages`, a first message, regenerate, edit,
  with `Accept: text/event-stream`), before the reply's first event: the messages just made, as the JSON
  answer gives them (and the new `conversation` when one was started)
- `message.start` `{message_id, model}`
- `sources` `{message_id, sources: [{n, kind: "file" | "item" | "web", id, url?, title, snippet, page}]}`:
  what the reply is based on (its text cites them as `[n]`), before the first `delta`; only when there
  are any; again, the whole list, when a web search adds some (`kind: "web"`, with its `url`)
- `delta` `{message_id, text}`: only the new text
- `tool.call` `{message_id, id, server, name, arguments, offset}`: a tool the server runs for the reply
  starts (a chat with `tools` and a model with the `tools` capability); `offset`: the length of the
  reply's text so far, where the call belongs
- `tool.result` `{message_id, id, status, result, error, truncated, duration_ms}`: it ended (`status`
  `ok`, `error`, `timeout`, `refused`, `stopped` or `interrupted`)
- `notice` `{message_id, code, message}`: something to know about how the reply is made
  (`tool_server_unavailable`, `tool_rounds_exhausted`, `tool_limit_reached`)
- `message.done` `{message_id, status, usage: {prompt_tokens, completion_tokens}, finish_reason}`
  (`stop`, `length`, or empty when unknown); the stream then ends
- `error` `{message_id, code, message}` (followed by `message.done` with status `error`)
- `snapshot` `{message_id, text, seq, sources, tool_calls, notices}`: for a client joining late without
  `Last-Event-ID`, the text so far, the sources announced so far, the tool calls so far (as the
  message's `tool_calls`) and the notices; live events follow.

Send the last id received as `Last-Event-ID` (header, or `?last_event_id=`) to receive every later
event of that reply exactly once, in order; an id of another reply is never read as this one's (a
bare number `n`, as older clients send, applies to the reply followed). With nothing in flight the
stream sends the reply's final state (`snapshot` then `message.done`) and closes. Comment lines
(`: keep-alive`) arrive every 15 s. The reply keeps being generated and saved when the client goes
away.

**WebSocket** `/ws/conversations/{id}/` carries the same events. Connect (browsers send their
`Origin`; other clients must send an `Origin` matching the server's host), then send
`{"type": "auth", "token": "<access token>", "last_event_id": "<id>"?, "message_id": "<reply id>"?}` as the
first message; the token is never put in the URL. Events then arrive as
`{"event": "<name>", "id": "<message id>:<n>", "data": {...}}`, and the server closes after
`message.done`. `{"type": "stop", "message_id"?}` stops the reply. Close codes:
4401 missing or invalid token, 4404 unknown conversation (or another user's), 4400 malformed message.
"""

STREAM = view_schema(
    tags=["conversations"],
    get=extend_schema(
        operation_id="conversations_stream",
        summary="Stream the reply (Server-Sent Events; WebSocket described here too)",
        description=_STREAM_DESCRIPTION,
        parameters=[
            # The Last-Event-ID header (what browsers' EventSource send) is described above rather
            # than declared: a declared header parameter makes contract tools treat any other
            # request header as a schema violation.
            OpenApiParameter("last_event_id", _EVENT_ID, description="Resume after this event id (or Last-Event-ID)."),
            OpenApiParameter(
                "message_id", OpenApiTypes.UUID, description="The reply to follow (default: see the description)."
            ),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(_SSE_EVENT, "An event stream (see the description)."),
            (401, "application/json"): OpenApiResponse(ErrorSerializer, "Missing or invalid bearer token"),
            (404, "application/json"): OpenApiResponse(
                ErrorSerializer, "Not found (also for another user's conversation)"
            ),
        },
    ),
)

# --- staff ------------------------------------------------------------------------------------

STAFF_CONVERSATIONS = view_schema(
    tags=["staff"],
    list=extend_schema(
        summary="Staff: list a user's conversations",
        parameters=[s.StaffConversationListQuerySerializer],
        responses={200: s.StaffConversationSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="Staff: read a user's conversation with its messages",
        responses={200: s.StaffConversationDetailSerializer},
    ),
    destroy=extend_schema(summary="Staff: delete a user's conversation", responses={204: None}),
)

# --- settings ---------------------------------------------------------------------------------

SUBSCRIPTION = settings_part("subscription")
STAFF_SUBSCRIPTION = settings_part("subscription", staff=True)
