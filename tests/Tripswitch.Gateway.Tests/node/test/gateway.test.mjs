// The official OpenAI Node client against the Tripswitch gateway, in front of scripted upstreams (FakeLlm on
// 127.0.0.1). Started by Tripswitch.Gateway.Tests' NodeClientTests, which scripts each model and passes:
//   GATEWAY_URL  the gateway's /v1 base URL       OPENAI_API_KEY  a gateway client key
//   CONTROL_URL  the test's control server: POST /advance?seconds=S moves the circuits' fake clock;
//                GET /circuit?name=N[&wait=K] returns {state, successful, failed} once K outcomes were reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { getCompletion } from '../seed-get-completion.mjs';

const client = new OpenAI({ baseURL: process.env.GATEWAY_URL, maxRetries: 0 });
const control = process.env.CONTROL_URL;
const hi = [{ role: 'user', content: 'Hi' }];

async function advance(seconds) {
    const response = await fetch(`${control}/advance?seconds=${seconds}`, { method: 'POST' });
    assert.equal(response.status, 204);
}

async function circuit(name, wait = 0) {
    const response = await fetch(`${control}/circuit?name=${encodeURIComponent(name)}&wait=${wait}`);
    assert.equal(response.status, 200);
    return response.json();
}

test('a completion answers through the model\'s circuit, which the headers name', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: hi }).withResponse();
    assert.equal(data.choices[0].message.content, 'Hello from gpt-4o-mini.');
    assert.equal(response.headers.get('x-tripswitch-model'), 'gpt-4o-mini');
    assert.equal(response.headers.get('x-tripswitch-circuit'), 'fake/gpt-4o-mini');
});

test('a streamed completion arrives chunk by chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'stream-ok', messages: hi, stream: true });
    const parts = [];
    for await (const chunk of stream) {
        const text = chunk.choices[0]?.delta?.content;
        if (text) parts.push(text);
    }
    assert.ok(parts.length >= 4, `expected several chunks, got ${parts.length}`);
    assert.equal(parts.join(''), 'one two three four');
});

test('500s trip the circuit, then the fallback model answers (header checked)', async () => {
    for (let i = 0; i < 2; i++) {
        await assert.rejects(client.chat.completions.create({ model: 'trip-500', messages: hi }),
            (err) => err instanceof OpenAI.InternalServerError && err.status === 500);
    }
    assert.equal((await circuit('fake/trip-500')).state, 'Open');
    const { data, response } = await client.chat.completions.create({ model: 'trip-500', messages: hi }).withResponse();
    assert.equal(data.choices[0].message.content, 'Hello from trip-fallback.');
    assert.equal(response.headers.get('x-tripswitch-model'), 'trip-fallback');
    assert.equal(response.headers.get('x-tripswitch-circuit'), 'fake/trip-fallback');
    assert.equal(response.headers.get('x-tripswitch-fallback-from'), 'trip-500');
});

test('with every candidate open the client gets 503, Retry-After and circuit_open', async () => {
    for (let i = 0; i < 2; i++) {
        await assert.rejects(client.chat.completions.create({ model: 'solo-500', messages: hi }), { status: 500 });
    }
    await assert.rejects(client.chat.completions.create({ model: 'solo-500', messages: hi }), (err) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 503);
        assert.equal(err.code, 'circuit_open');
        assert.equal(err.type, 'circuit_open');
        assert.equal(err.headers.get('retry-after'), '30');
        return true;
    });
});

test('a 429 with Retry-After: 6 keeps the circuit open 6 s', async () => {
    for (let i = 0; i < 2; i++) {
        await assert.rejects(client.chat.completions.create({ model: 'limited', messages: hi }),
            (err) => err instanceof OpenAI.RateLimitError);
    }
    await advance(5.9);
    await assert.rejects(client.chat.completions.create({ model: 'limited', messages: hi }), (err) => {
        assert.equal(err.status, 503);
        assert.equal(err.headers.get('retry-after'), '1');
        return true;
    });
    await advance(0.1);
    const answer = await client.chat.completions.create({ model: 'limited', messages: hi });
    assert.equal(answer.choices[0].message.content, 'Hello from limited.');
});

test('a stream cut midway fails on the client and counts as a failure', async () => {
    const parts = [];
    // The cut may reach the gateway before it has passed the response's head on (a loaded machine): then the request
    // itself fails on the client instead of the stream. Either way the client sees an error, never a whole answer.
    await assert.rejects(async () => {
        const stream = await client.chat.completions.create({ model: 'cut', messages: hi, stream: true });
        for await (const chunk of stream) {
            const text = chunk.choices[0]?.delta?.content;
            if (text) parts.push(text);
        }
    });
    // What arrived (the connection is aborted, so the last bytes may be lost) is a beginning, never the whole answer.
    assert.ok('a b c d e f'.startsWith(parts.join('')) && parts.join('') !== 'a b c d e f', `got '${parts.join('')}'`);
    const summary = await circuit('fake/cut', 1);
    assert.equal(summary.failed, 1);
    assert.equal(summary.successful, 0);
});

test('the pattern\'s own getCompletion(prompt) runs unchanged but for its base URL', async () => {
    assert.equal(await getCompletion('Hello'), 'Hello from gpt-4.1.');
    assert.equal(await getCompletion('Hello again'), 'Hello from gpt-4.1.');
});
