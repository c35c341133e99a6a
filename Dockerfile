FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dashboard dashboard
COPY provisioning provisioning
RUN pip install --no-cache-dir .
COPY . .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
