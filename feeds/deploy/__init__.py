"""Deploying: the site to S3-compatible object storage, uploading only what changed (`feedpub deploy`).

`plan.py` decides, with no network: the objects to store (bytes and headers), what to upload, in
which order, and what to delete. `s3.py` carries a plan out through boto3, with timeouts and bounded
retries. `command.py` runs a deploy in its safe order (list, build, plan, check the delete bound,
upload, delete) for the command line. boto3 loads only when `s3.py` is imported.
"""
