# One image for every Satu Ormas process; docker-compose.yml picks the command per container.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 SATU_VAR_DIR=/var/lib/satu
WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY contracts ./contracts
COPY infra ./infra
COPY services ./services
COPY gateway ./gateway
COPY ops ./ops
COPY regions ./regions
RUN pip install --no-deps . \
    && useradd --system --home /var/lib/satu satu \
    && mkdir -p /var/lib/satu/letters /var/lib/satu/uploads \
    && chown -R satu /var/lib/satu
USER satu
CMD ["satu", "--help"]
