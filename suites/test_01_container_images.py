"""Container images and what they carry: pinned references, and no secret in their environment or layers."""

import pytest

from infra_conformance.engine.images import unpinned_references
from infra_conformance.probes.credentials import URL_PASSWORD, credential_variables, url_passwords


@pytest.mark.control("CTR-11", severity="medium", claims=["P5", "N9"])
def test_base_image_pinned(stack, service):
    """The service's image and the base images it is built from are pinned.

    Rationale: `latest` and other floating tags change under a stack between two
    builds, so what was checked is not what runs next week. A release tag or a digest
    keeps builds repeatable. A base image is read as the build makes it: compose's
    build args replace an `ARG`'s default, and an inline Dockerfile counts as one; a
    build whose Dockerfile cannot be read has base images nobody can judge.

    Covers: the service's image, and every FROM of its Dockerfile or
    dockerfile_inline, with compose's build args.

    Fix: Pin images and `FROM` lines to a release tag or a digest: `image: nginx:1.27.3`
    or `@sha256:<digest>`, in the Dockerfile and in compose's `build.args`.

    References: CIS Docker Benchmark v1.6.0 4.2; https://docs.docker.com/reference/compose-file/services/#image
    """
    found = unpinned_references(stack.config["services"][service])
    assert not found, f"{service}: expected pinned images (a release tag or a digest), found {'; '.join(found)}"


@pytest.mark.control("CTR-12", severity="high", claims=["P10", "Z12"])
def test_no_secrets_in_env_or_image(stack, container, service):
    """No secret is in the container's or image's environment (by name, value or URL), the image history, the labels,
    the command lines (configured and running) or the healthcheck.

    Rationale: `docker inspect` output, image layers and CI logs are read by many;
    secrets belong in files mounted at run time (`/run/secrets`), never in env or layers.
    A label, a command-line argument (every user of the host sees it in `ps`) and a
    healthcheck are read just as widely.
    A variable named like a secret whose value is a number, a boolean or a path
    (`TOKEN_TTL_S=3600`, `SECRETS_DIR=/run/secrets`) is a setting about secrets, not one.

    Covers: the container's and the image's environment, the image history, the labels,
    the configured and the running command lines, and the healthcheck.

    Fix: Pass secrets as compose `secrets:` files read from `/run/secrets/<name>`, never
    in `environment:`, `labels:`, `command:`, a healthcheck or a Dockerfile `ENV`/`ARG`;
    give a program that reads a password only from its arguments a wrapper that passes
    it another way, or replace it.

    References: CIS Docker Benchmark v1.6.0 4.10; https://docs.docker.com/compose/how-tos/use-secrets/
    """
    values = [stack.secret(name) for name in stack.profile.secrets]
    config, image = container.attrs["Config"], stack.client.images.get(container.attrs["Image"])
    running = container.top(ps_args="-o pid,args")["Processes"] if container.status == "running" else []
    places = {"container env": config["Env"] or [],
              "image env": image.attrs["Config"].get("Env") or [],
              "image history": [step.get("CreatedBy", "") for step in image.history()],
              "labels": [f"{name}={value}" for name, value in (config.get("Labels") or {}).items()],
              "command line": [*(config.get("Entrypoint") or []), *(config.get("Cmd") or []),
                               *(args for _, args in running)],
              "healthcheck": (config.get("Healthcheck") or {}).get("Test") or []}
    found = [f"a generated secret in {place}" for place, entries in places.items()
             for entry in entries if any(value in entry for value in values)]
    found += [f"{name} in {place}" for place in ("container env", "image env", "labels")
              for name in credential_variables(places[place])]
    found += [f"a password in the URL of {name} in {place}" for place in ("container env", "image env", "labels")
              for name in url_passwords(places[place])]
    found += [f"a password in a URL in the {place}" for place in ("command line", "healthcheck")
              if any(URL_PASSWORD.search(entry) for entry in places[place])]
    assert not found, f"{service}: expected secrets only as files, found {', '.join(sorted(set(found)))}"
