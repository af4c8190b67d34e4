"""Where archived files live: Django's storage named "archive" (config/settings.py STORAGES):
a folder under MEDIA_ROOT by default, an S3-compatible bucket when ARCHIVE_S3_BUCKET is set."""

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
