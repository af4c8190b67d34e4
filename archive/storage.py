"""Where archived files live: Django's storage named "archive" (config/settings.py STORAGES):
a folder under MEDIA_ROOT by default, an S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set."""

import hashlib
from collections.abc import Iterator

from django.core.files import File
from django.core.files.storage import Storage, storages


def archive_storage() -> Storage:
    return storages["archive"]


def is_remote(storage: Storage | None = None) -> bool:
    """True for a bucket: files are then handed out by short-lived signed URLs, not streamed
    through a web worker."""
    storage = storage or archive_storage()
    return hasattr(storage, "bucket_name")


def read_range(name: str, start: int, length: int, chunk: int) -> Iterator[bytes]:
    """`length` bytes of a stored file from byte `start`, `chunk` bytes at a time, read as they
    are sent. From a bucket this is one ranged GET: django-storages' S3File would first copy the
    whole object into memory (a SpooledTemporaryFile of AWS_S3_MAX_MEMORY_SIZE, 0: no limit)."""
    if length <= 0:
        return
    storage = archive_storage()
    if is_remote(storage):
        from storages.utils import clean_name  # installed with the [s3] extra only

        key = storage._normalize_name(clean_name(name))  # as S3Storage names its objects
        body = storage.bucket.Object(key).get(Range=f"bytes={start}-{start + length - 1}")["Body"]
        try:
            yield from body.iter_chunks(chunk)
        finally:
            body.close()
        return
    with storage.open(name, "rb") as handle:
        handle.seek(start)
        while length > 0:
            data = handle.read(min(chunk, length))
            if not data:
                return
            length -= len(data)
            yield data


class TooBig(Exception):
    pass


class StreamedBody(File):
    """A download as a Django File that storage backends read once, front to back: the local
    storage through chunks(), S3's uploader through read(n). Counts and hashes what passes,
    and stops at `limit` bytes, so nothing holds more than a chunk in memory."""

    def __init__(self, chunks: Iterator[bytes], name: str, limit: int):
        super().__init__(None, name)
        self._chunks = chunks
        self._buffer = b""
        self.limit = limit
        self.size_read = 0
        self.digest = hashlib.sha256()

    def _next(self) -> bytes:
        chunk = next(self._chunks, b"")
        self.size_read += len(chunk)
        if self.size_read > self.limit:
            raise TooBig(self.size_read)
        self.digest.update(chunk)
        return chunk

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        if self._buffer:
            yield self._buffer
            self._buffer = b""
        while chunk := self._next():
            yield chunk

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = self._next()
            if not chunk:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def seekable(self) -> bool:
        return False

    @property
    def size(self) -> None:  # unknown until read whole
        return None

    def close(self) -> None:
        pass
