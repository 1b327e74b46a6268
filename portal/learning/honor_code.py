"""The honor code, word for word from the FAQ. Its version is a hash of the text, stored
with each attestation so we know exactly what a learner agreed to."""

import hashlib

HONOR_CODE = (
    "I hereby attest that I have completed the full course. By clicking \u201cyes\u201d I confirm that I have "
    "personally reviewed all required material presented in this course, and any credit requested will reflect "
    "actual time spent participating in the web-based training, and does not exceed the estimated number of "
    "completion hours detailed in the course description."
)
HONOR_CODE_VERSION = hashlib.sha256(HONOR_CODE.encode()).hexdigest()[:16]
