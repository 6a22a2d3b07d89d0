"""Issue 18, security round three: the regression suite. Each hole found from outside is tried here
the way it was found (against a live server where it was found that way); a test fails when its
hole opens again. ``pytest tests/security_round3`` runs them all.

- hole 1, staff take over a superuser (and, beyond the issue, another staff member), and
- hole 3, a model row reads a server secret: ``test_holes_1_3_admin_and_model_secrets.py``
  (every admin path in ``tests/console/test_superuser_guard.py``, every write path of
  ``api_key_env`` in ``tests/conversations/test_api_key_env.py``);
- hole 2, an import exhausts the worker's memory, and hole 4, an import multiplies storage:
  ``test_holes_2_4_imports.py`` (peak memory measured in a process of its own);
- hole 5, deleting conversations resets the quota: ``test_hole_5_quota_ledger.py``;
- hole 6, nested JSON makes a 500 whatever the Content-Type says: ``test_hole_6_nested_json.py``;
- hole 7, bodies spooled to disk before any size check: ``test_hole_7_body_size.py``;
- hole 8, a chosen account locked for good; hole 9, the reset key in the access log; hole 10,
  registration says whether an email exists: ``test_holes_8_9_10_sign_in.py``;
- hole 10, the rest: ``test_hole_10_small_ones.py`` (Last-Event-ID, CSV formulas, the share
  page's remote images, a note's file, CSP on the admin and the API docs) and
  ``test_hole_10_redis_down.py``; continuing a share asks first:
  ``tests/config/test_web_client.py::test_continue_a_share_asks_before_copying_it``.
"""
