# The pboss API service. Built by docker-compose.yml (which also runs Neo4j); alone:
#   docker build -t pboss . && docker run -p 8000:8000 -e PBOSS_NEO4J_URI=bolt://HOST:7687 \
#     -e PBOSS_NEO4J_USER=neo4j -e PBOSS_NEO4J_PASSWORD=... -e PBOSS_API_KEYS='{"<key>":"crm"}' pboss
# (without API keys it refuses to start; `pboss keys init` generates them into .env)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README* ./
COPY pboss ./pboss
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --create-home pboss \
    && rm -rf /src

WORKDIR /app
USER pboss

ENV PBOSS_STORE=neo4j \
    PBOSS_NEO4J_URI=bolt://neo4j:7687 \
    PBOSS_HOST=0.0.0.0 \
    PBOSS_PORT=8000

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=6 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=3)"]

CMD ["pboss", "serve", "--host", "0.0.0.0", "--port", "8000"]
