"""The service's own knobs: replies, the collector, request body limits."""

from .env import env
from .redis import REDIS_URL

# --- Chat service knobs (used by the conversations app) -------------------------------------
CHAT = {
    # Coalesce deltas for this long before publishing them.
    "DELTA_COALESCE_SECONDS": env.float("CHAT_DELTA_COALESCE_SECONDS", default=0.05),
    # Checkpoint a streaming reply to the database at most this often.
    "CHECKPOINT_SECONDS": env.float("CHAT_CHECKPOINT_SECONDS", default=1.0),
    # Threads (each with its database connection) for the replies' claims, checkpoints and final
    # saves (core/db.py); 0: 4 on PostgreSQL, 1 on SQLite (one writer).
    "BACKGROUND_DB_THREADS": env.int("CHAT_BACKGROUND_DB_THREADS", default=0),
    # A streaming reply whose heartbeat is older than this is marked interrupted.
    "STALE_AFTER_SECONDS": env.float("CHAT_STALE_AFTER_SECONDS", default=30.0),
    "LOCAL_MODEL_THREADS": env.int("CHAT_LOCAL_MODEL_THREADS", default=2),
    "LOCAL_MODEL_URL": env.str("CHAT_LOCAL_MODEL_URL", default="http://127.0.0.1:8081/v1"),
    # The embedded embedding model's server (`model_server --embedding`, the Procfile's
    # `embedding`): /v1/embeddings' model when none is configured for knowledge. Empty: none.
    "LOCAL_EMBEDDING_URL": env.str("CHAT_LOCAL_EMBEDDING_URL", default="http://127.0.0.1:8082/v1"),
    "MAX_MESSAGE_CHARS": env.int("CHAT_MAX_MESSAGE_CHARS", default=32000),
    # How long a ?wait=true request waits for its reply; past it, 202 and the reply goes on.
    "WAIT_SECONDS": env.float("CHAT_WAIT_SECONDS", default=300.0),
    # Whether the OpenAI-compatible API keeps what requests said and got back; its usage figures
    # (tokens, timings, status) are kept either way.
    "API_KEEP_CONTENT": env.bool("CHAT_API_KEEP_CONTENT", default=False),
    # How long a /v1 request beyond the plan's concurrent replies waits for one of them to end
    # before its 429 (which the SDKs retry after Retry-After: 1 s); 0: no wait (openai_api/slots.py).
    "API_SLOT_WAIT_SECONDS": env.float("CHAT_API_SLOT_WAIT_SECONDS", default=10.0),
    # A single-process server (no Redis) ends every in-flight reply when it starts: none of them
    # can still have a worker. With Redis, other processes may: the heartbeat decides.
    "REAP_ON_START": env.bool("CHAT_REAP_ON_START", default=not REDIS_URL),
    # Conversations without activity (updated_at) for this many days are deleted by the daily
    # purge job (conversations/tasks.py) and `manage.py purge --apply`; 0 keeps them forever.
    "RETENTION_DAYS": env.int("CHAT_RETENTION_DAYS", default=0),
    # The environment variables a model row may name as its API key (names, PREFIX* patterns);
    # the server's own settings are never allowed, whatever this says (conversations/llm/keys.py).
    "API_KEY_ENV_ALLOWED": env.list(
        "CHAT_API_KEY_ENV_ALLOWED", default=["LLM_KEY_*", "OPENAI_API_KEY", "VLLM_API_KEY", "OPENROUTER_API_KEY"]
    ),
    # A reply to a message whose attached document is still being read waits this long for it,
    # then ends with the error attachments_not_ready.
    "ATTACHMENT_WAIT_SECONDS": env.float("CHAT_ATTACHMENT_WAIT_SECONDS", default=60.0),
    # Images sent to a vision model are resized so their longer side is at most this many pixels
    # (1568: what the major vision APIs scale down to anyway, so nothing they would see is lost).
    "IMAGE_MAX_SIDE": env.int("CHAT_IMAGE_MAX_SIDE", default=1568),
    # The largest image (decoded bytes) a /v1 request may send as a data URL.
    "IMAGE_MAX_BYTES": env.int("CHAT_IMAGE_MAX_BYTES", default=8 * 1024 * 1024),
}

# --- Collector ------------------------------------------------------------------------------
COLLECTOR_MAX_UPLOAD_BYTES = env.int("COLLECTOR_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)

# --- Files (files/): uploads and their text extraction -------------------------------------
FILES_MAX_UPLOAD_BYTES = env.int("FILES_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
# Extraction runs in a child process with these bounds (files/extraction.py): wall-clock seconds
# (also its CPU limit), pages/slides/sheets read (more: failed too_many_pages), characters kept,
# its address space, and what a DOCX/PPTX/XLSX/HWPX zip may unpack to (more: failed too_large).
FILES_EXTRACT_TIMEOUT_SECONDS = env.float("FILES_EXTRACT_TIMEOUT_SECONDS", default=60.0)
FILES_EXTRACT_MAX_PAGES = env.int("FILES_EXTRACT_MAX_PAGES", default=1000)
FILES_EXTRACT_MAX_CHARS = env.int("FILES_EXTRACT_MAX_CHARS", default=2_000_000)
FILES_EXTRACT_MEMORY_BYTES = env.int("FILES_EXTRACT_MEMORY_BYTES", default=1024 * 1024 * 1024)
FILES_EXTRACT_MAX_UNZIPPED_BYTES = env.int("FILES_EXTRACT_MAX_UNZIPPED_BYTES", default=200 * 1024 * 1024)
# Documents one user may have waiting to be read at once (images never wait); the next upload is
# 429 too_many_files_processing with Retry-After. 0: no cap.
FILES_MAX_PROCESSING_PER_USER = env.int("FILES_MAX_PROCESSING_PER_USER", default=5)
# A file still "processing" after this many minutes lost its job: the sweep re-queues it once.
FILES_STUCK_AFTER_MINUTES = env.int("FILES_STUCK_AFTER_MINUTES", default=15)

# --- Request body limits (core/body_limits.py), checked before a body is read --------------
# The proxy in front should refuse the same sizes first (docs/deployment.md shows them).
PORTABILITY_MAX_IMPORT_BYTES = env.int("PORTABILITY_MAX_IMPORT_BYTES", default=200 * 1024 * 1024)
_MULTIPART_OVERHEAD = 1024 * 1024  # form fields and boundaries around an uploaded file
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=1024 * 1024)
OPENAI_API_MAX_BODY_BYTES = env.int("OPENAI_API_MAX_BODY_BYTES", default=8 * 1024 * 1024)
ADMIN_MAX_BODY_BYTES = env.int("ADMIN_MAX_BODY_BYTES", default=10 * 1024 * 1024)
# (path prefix, methods (empty: any), most bytes[, the 413's code]); the first match wins, else
# REQUEST_MAX_BODY_BYTES. Upload routes answer file_too_large, as their views do.
REQUEST_BODY_LIMITS = [
    ("/api/v1/imports", {"POST"}, PORTABILITY_MAX_IMPORT_BYTES + _MULTIPART_OVERHEAD),
    (
        "/api/v1/collector/items",
        {"POST", "PATCH", "PUT"},
        COLLECTOR_MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD,
        "file_too_large",
    ),
    ("/api/v1/files", {"POST"}, FILES_MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD, "file_too_large"),
    ("/v1/", set(), OPENAI_API_MAX_BODY_BYTES),
    ("/admin/", set(), ADMIN_MAX_BODY_BYTES),
]

# A user's custom instructions (about me / how to answer), placed before every chat's system prompt.
CUSTOM_INSTRUCTIONS_MAX_CHARS = env.int("CUSTOM_INSTRUCTIONS_MAX_CHARS", default=3000)
# The service's name in mails and pages (the password reset mail, the share page, the title).
SITE_NAME = env("SITE_NAME", default="Chat")
