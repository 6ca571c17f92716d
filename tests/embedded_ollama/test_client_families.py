"""The clients people bring to an Ollama, against the real embedded server and its default model:
the OpenAI SDK on ``/v1`` (through the same copies of the model) and LangChain's ChatOllama; the
official ``ollama`` client is tried in test_embedded_ollama_server.py. Their libraries are in the
``test`` extras only (pyproject.toml)."""

from __future__ import annotations

import json
from typing import Literal

import httpx
import ollama
import openai
import pytest
from langchain_ollama import ChatOllama
from langsmith import tracing_context
from pydantic import BaseModel, Field

from embedded_ollama import EMBEDDED_MODEL_NAME, EmbeddedHandle
from embedded_ollama.catalog import SMOLLM2_Q4_1, SMOLLM2_Q8_0

pytestmark = pytest.mark.model

QUESTION = "AAPL rose 2.1% today on high volume; its 20-day SMA is rising. Give a trading signal."


class Signal(BaseModel):
    action: Literal["BUY", "SELL", "HOLD"]
    confidence: float = Field(ge=0, le=1)


@pytest.fixture(scope="module")
def openai_client(embedded_ollama_server: EmbeddedHandle) -> openai.OpenAI:
    """The OpenAI SDK pointed at the server's ``/v1`` (the key is required by the SDK, ignored by Ollama)."""
    return openai.OpenAI(base_url=embedded_ollama_server.host + "/v1", api_key="ollama", max_retries=0)


def test_openai_lists_and_retrieves_the_models(openai_client: openai.OpenAI) -> None:
    assert [model.id for model in openai_client.models.list()] == [SMOLLM2_Q8_0.name, SMOLLM2_Q4_1.name]
    model = openai_client.models.retrieve(EMBEDDED_MODEL_NAME)
    assert (model.id, model.owned_by) == (EMBEDDED_MODEL_NAME, "library")
    with pytest.raises(openai.NotFoundError):
        openai_client.models.retrieve("gpt-4o")


def test_openai_chat_with_a_json_schema(openai_client: openai.OpenAI) -> None:
    """``response_format`` json_schema (what the SDK's ``parse`` sends) constrains the answer as ``format`` does."""
    completion = openai_client.chat.completions.parse(
        model=EMBEDDED_MODEL_NAME,
        messages=[{"role": "user", "content": QUESTION}],
        response_format=Signal,
        temperature=0,
        seed=42,
        max_tokens=100,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and isinstance(choice.message.parsed, Signal)
    assert (
        completion.usage is not None and completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    )


def test_openai_json_object_and_the_same_answer_as_ollama(
    openai_client: openai.OpenAI, embedded_ollama_client: ollama.Client
) -> None:
    """json_object is ``format: "json"``; a /v1 request and its /api/chat twin get the same greedy answer."""
    messages = [{"role": "user", "content": 'Return a JSON object with a key "colour".'}]
    completion = openai_client.chat.completions.create(
        model=EMBEDDED_MODEL_NAME,
        messages=messages,  # type: ignore[arg-type]
        response_format={"type": "json_object"},
        temperature=0,
        top_p=1,
        seed=7,
        max_tokens=80,
    )
    text = completion.choices[0].message.content or ""
    assert completion.choices[0].finish_reason == "stop" and isinstance(json.loads(text), dict)
    twin = embedded_ollama_client.chat(
        model=EMBEDDED_MODEL_NAME,
        messages=messages,
        format="json",
        options={"temperature": 0, "top_p": 1, "seed": 7, "num_predict": 80},
    )
    assert twin.message.content == text


def test_openai_streams_the_whole_answer_then_usage(openai_client: openai.OpenAI) -> None:
    options = {"model": EMBEDDED_MODEL_NAME, "temperature": 0, "seed": 3, "max_tokens": 20}
    messages = [{"role": "user", "content": "Name two stock exchanges."}]
    whole = openai_client.chat.completions.create(messages=messages, **options)  # type: ignore[call-overload]
    chunks = list(
        openai_client.chat.completions.create(
            messages=messages, stream=True, stream_options={"include_usage": True}, **options
        )  # type: ignore[call-overload]
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]


def test_openai_completions(openai_client: openai.OpenAI) -> None:
    completion = openai_client.completions.create(
        model=EMBEDDED_MODEL_NAME, prompt="Name one stock exchange.", max_tokens=8, temperature=0
    )
    assert completion.choices[0].text and completion.choices[0].finish_reason in ("stop", "length")


def test_openai_errors_are_openai_shaped(openai_client: openai.OpenAI, embedded_ollama_server: EmbeddedHandle) -> None:
    with pytest.raises(openai.NotFoundError, match="not found"):
        openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="does not support tools"):
        openai_client.chat.completions.create(
            model=EMBEDDED_MODEL_NAME,
            messages=[{"role": "user", "content": "hi"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        )
    embeddings = httpx.post(
        embedded_ollama_server.host + "/v1/embeddings", json={"model": EMBEDDED_MODEL_NAME, "input": "x"}
    )
    assert embeddings.status_code == 501 and "nomic-embed-text" in embeddings.json()["error"]["message"]


def test_ollama_client_embed_is_a_501_naming_what_to_use(embedded_ollama_client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        embedded_ollama_client.embed(model=EMBEDDED_MODEL_NAME, input="hello")
    assert caught.value.status_code == 501 and "embedding model" in caught.value.error


def test_langchain_chat_ollama_invokes_streams_and_structures(embedded_ollama_server: EmbeddedHandle) -> None:
    chat = ChatOllama(
        model=EMBEDDED_MODEL_NAME, base_url=embedded_ollama_server.host, temperature=0, seed=42, num_predict=40
    )
    with tracing_context(enabled=False):  # LangSmith tracing off whatever the environment says: nothing leaves
        reply = chat.invoke("Name one stock exchange.")
        assert isinstance(reply.content, str) and reply.content
        streamed = "".join(str(chunk.content) for chunk in chat.stream("Name one stock exchange."))
        assert streamed == reply.content
        structured = chat.with_structured_output(Signal, method="json_schema").invoke(QUESTION)
    assert isinstance(structured, Signal)
