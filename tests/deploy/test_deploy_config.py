"""The HAProxy deployment's files: one template behind both configs, the directives the
lecture set-up relies on, and no secret in the repository. (The proxy itself, with replicas and
a browser: tests/e2e/test_proxy.py.)"""
from __future__ import annotations

import re

import pytest

from deploy import replicas as dep

ROOT = dep.ROOT
NEEDS_HAPROXY = pytest.mark.skipif(dep.haproxy_binary() is None,
                                   reason="haproxy is not installed (apt-get install haproxy), so its "
                                          "own check of the config is skipped")


def directives(text: str) -> list[str]:
    """The config's lines without comments and blank lines, whitespace collapsed."""
    lines = (re.sub(r"\s+", " ", line.split("#", 1)[0]).strip() for line in text.splitlines())
    return [line for line in lines if line]


def test_the_compose_config_is_rendered_from_the_template():
    assert dep.COMPOSE_CONFIG.read_text() == dep.compose_config(), (
        "deploy/haproxy.cfg is out of date: run `python -m deploy.replicas --write-compose-config`")


@pytest.mark.parametrize("text", [dep.compose_config(), dep.render([("app1", "127.0.0.1:1"), ("app2", "127.0.0.1:2")],
                                                                 "127.0.0.1:3", stats_bind="127.0.0.1:4")],
                         ids=["compose", "loopback"])
def test_the_config_holds_what_a_lecture_needs(text):
    lines = directives(text)
    assert "cookie SERVERID insert indirect nocache httponly" in lines
    assert not any(line.startswith("balance source") for line in lines)  # one NAT address for a hall
    assert "option httpchk GET /_stcore/health" in lines
    assert "http-check expect status 200" in lines
    assert "timeout tunnel 1h" in lines and "timeout client-fin 30s" in lines
    assert "option redispatch" in lines
    assert "compression algo gzip" in lines
    types = next(line for line in lines if line.startswith("compression type")).split()[2:]
    assert {"application/javascript", "text/css", "text/html"} <= set(types)
    assert "http-response set-header X-Replica %s" in lines
    servers = [line.split() for line in lines if line.startswith("server ")]
    assert [s[1] for s in servers] == ["app1", "app2"]
    assert all(s[s.index("cookie") + 1] == s[1] for s in servers)  # each replica its own cookie value
    assert "@" not in "".join(lines)  # every template field filled in


def test_compose_takes_the_cookie_secret_from_the_deployment_not_the_repository():
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    values = re.findall(r"STREAMLIT_SERVER_COOKIE_SECRET:\s*(\S+)", compose)
    assert values and all(v.startswith("${STREAMLIT_SERVER_COOKIE_SECRET:?") for v in values)
    assert "app1:" in compose and "app2:" in compose and "./haproxy.cfg:" in compose
    assert "deploy/.env" in (ROOT / ".gitignore").read_text().split()
    assert "deploy" in (ROOT / ".dockerignore").read_text().split()  # nor into the image


def test_every_replica_of_a_deployment_shares_one_secret_and_deployments_differ(monkeypatch, tmp_path):
    monkeypatch.delenv(dep.SECRET_ENV, raising=False)
    one = dep.Deployment(replicas=3, log_dir=tmp_path / "one")
    two = dep.Deployment(replicas=3, log_dir=tmp_path / "two")
    assert {r.secret for r in one.replicas} == {one.secret} and len(one.secret) == 64
    assert one.secret != two.secret
    assert one.secret not in one.config()
    monkeypatch.setenv(dep.SECRET_ENV, "a-secret-set-for-this-deployment")
    assert dep.Deployment(replicas=2, log_dir=tmp_path / "three").secret == "a-secret-set-for-this-deployment"


@NEEDS_HAPROXY
def test_haproxy_accepts_both_configs(tmp_path):
    loopback = tmp_path / "loopback.cfg"
    loopback.write_text(dep.Deployment(replicas=2, log_dir=tmp_path).config())
    for path in (dep.COMPOSE_CONFIG, loopback):
        checked = dep.check_config(path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "ALERT" not in checked.stdout + checked.stderr
