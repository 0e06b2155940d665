"""Starts pet-backend with a PostgreSQL and a Redis of its own on 127.0.0.1, for the benchmark
and the fuzz pass. Everything it starts is stopped by `stop_all()`."""
import base64, hashlib, hmac, json, os, shutil, signal, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JWT_SECRET = "stack-jwt-secret-0123456789abcdefghijkl"
children = []
folders = []


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


def start(command, log_path, env=None):
    process = subprocess.Popen(command, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
    children.append(process)
    return process


def ensure_tools():
    missing = [p for p, tool in [("wrk", "wrk"), ("redis-server", "redis-server"), ("postgresql", "psql"), ("nodejs", "node")] if not shutil.which(tool)]
    if missing:
        log("installing " + " ".join(missing))
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL)


def postgres_bin():
    versions = sorted(int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit())
    return f"/usr/lib/postgresql/{versions[-1]}/bin"


def access_token(user, exp=None, iat=None):
    """An HS256 access token signed with the stack's JWT_SECRET, valid for the 15 minutes the
    service's own tokens live (it refuses longer ones); the probes pass absurd exp and iat."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    claims = {"sub": user, "iss": "pet-backend", "iat": now if iat is None else iat, "exp": now + 900 if exp is None else exp}
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def start_stack(binary, extra_env=None, over_socket=False):
    """PostgreSQL, Redis and pet-backend (migrated and seeded); returns (app process, port, env).
    The app reaches PostgreSQL over loopback TCP, or through its Unix socket when over_socket;
    env["DATABASE_TCP_URL"] and env["DATABASE_SOCKET_URL"] name both ways."""
    work = tempfile.mkdtemp(prefix="backend-stack-")
    folders.append(work)
    shutil.chown(work, "postgres", "postgres")
    pg_port, redis_port, app_port = free_port(), free_port(), free_port()
    as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] if os.getuid() == 0 else []
    subprocess.run(as_postgres + [f"{postgres_bin()}/initdb", "-D", f"{work}/pg", "-A", "trust", "-U", "postgres", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL)
    start(as_postgres + [f"{postgres_bin()}/postgres", "-D", f"{work}/pg", "-p", str(pg_port), "-k", work, "-c", "listen_addresses=127.0.0.1",
                         "-c", "max_connections=200", "-c", "shared_buffers=256MB"], f"{work}/postgres.log")
    start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], f"{work}/redis.log")
    wait_port(pg_port)
    wait_port(redis_port)
    env = dict(os.environ, NODE_ENV="production", PORT=str(app_port), HOST="127.0.0.1", LOG_LEVEL="warn",
               DATABASE_URL=f"postgresql://postgres@127.0.0.1:{pg_port}/postgres?sslmode=disable", DATABASE_POOL_MIN="8", DATABASE_POOL_MAX="16",
               REDIS_URL=f"redis://127.0.0.1:{redis_port}", JWT_SECRET=JWT_SECRET, REFRESH_TOKEN_SECRET="stack-refresh-secret-0123456789abcdefgh",
               SESSION_SECRET="stack-session-secret-0123456789abcdefgh", ENCRYPTION_KEY="0123456789abcdef0123456789abcdef",
               CLERK_SECRET_KEY="sk_live_stack", CORS_ORIGIN="https://harnesshe.ro", SHOPIFY_WEBHOOK_SECRET="stack-webhook-secret")
    env["DATABASE_TCP_URL"] = env["DATABASE_URL"]
    env["DATABASE_SOCKET_URL"] = f"postgresql://postgres@/postgres?host={work}&port={pg_port}&sslmode=disable"
    if over_socket:
        env["DATABASE_URL"] = env["DATABASE_SOCKET_URL"]
    env.update(extra_env or {})
    subprocess.run([binary, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([binary, "seed"], env=env, check=True, stdout=subprocess.DEVNULL)
    app = start([binary, "serve"], f"{work}/pet-backend.log", env)
    wait_port(app_port)
    return app, app_port, env


def start_another_app(binary, env, **overrides):
    """One more pet-backend on the same stack (already migrated); returns (process, port)."""
    port = free_port()
    app = start([binary, "serve"], os.devnull, dict(env, PORT=str(port), **overrides))
    wait_port(port)
    return app, port


def stop_all():
    for child in children:
        try:
            os.killpg(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
