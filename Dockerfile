# Container of every task under -profile docker / singularity / apptainer (the processes name it as
# ghcr.io/virnucpro/virnucpro:<version>). Build from the repository root:
#   docker build -t ghcr.io/virnucpro/virnucpro:0.1.0 .
# PyTorch wheels from PyPI carry their CUDA libraries, so the image runs on GPUs given by the host driver
# (docker --gpus, singularity/apptainer --nv, which the gpu settings of the pipeline add).
FROM python:3.11.11-slim-bookworm

# Nextflow needs ps (task metrics) and bash in the container.
RUN apt-get update \
    && apt-get install -y --no-install-recommends procps bash \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONNOUSERSITE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/virnucpro
COPY python/ python/
COPY bin/ bin/

# The install step of the README (`pip install ./python`), with the versions the tests run with pinned.
RUN python -m pip install --no-cache-dir ./python \
        torch==2.15.0 numpy==2.4.6 click==8.5.1 safetensors==0.8.0 tokenizers==0.23.3 rich==15.0.0 \
        jsonschema==4.26.0 dnaio==1.2.4 xopen==2.1.0 isal==1.9.1 fair-esm==2.0.0 multiqc==1.35 \
    && virnucpro --version

ENV PATH=/opt/virnucpro/bin:$PATH
CMD ["virnucpro", "--help"]
