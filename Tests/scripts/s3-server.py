"""moto's S3 server with signature checks, canonicalizing query strings as S3 does.

moto rebuilds the signed URL from the decoded request, so a `prefix=a%2Fb` query is checked as
`prefix=a/b` and every signed listing of a folder is refused (boto3's own included), while S3
re-encodes each name and value (RFC 3986) before checking. This restores S3's rule and changes
nothing else. Usage: s3-server.py PORT (on 127.0.0.1)."""
import sys
from urllib.parse import parse_qsl, quote, urlparse

import moto.core.authorization as authorization


def canonical_urlparse(url):
    parts = urlparse(url)
    if not parts.query:
        return parts
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    return parts._replace(query="&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs))


authorization.urlparse = canonical_urlparse

from moto.server import main  # noqa: E402

main(["-H", "127.0.0.1", "-p", sys.argv[1]])
