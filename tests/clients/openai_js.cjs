// The openai SDK for JavaScript against /v1: run by matrix.py (MATRIX_OPENAI_JS, MATRIX_ARGS).
const OpenAI = require(process.env.MATRIX_OPENAI_JS);
const a = JSON.parse(process.env.MATRIX_ARGS);
const client = new OpenAI({ baseURL: a.base + "/v1", apiKey: a.key, maxRetries: 0 });
const WEATHER = a.weather;
const out = {};
async function run(name, fn) {
  try { out[name] = { ok: true, note: await fn() }; }
  catch (e) { out[name] = { ok: false, note: `${e.constructor.name}: ${e.status || ""} ${e.message}` }; }
}
(async () => {
  await run("chat", async () => {
    const r = await client.chat.completions.create({ model: a.local, messages: [{ role: "user", content: "Say hi" }], max_tokens: 20 });
    return JSON.stringify(r.choices[0].message.content);
  });
  await run("stream", async () => {
    const s = await client.chat.completions.create({ model: a.local, messages: [{ role: "user", content: "Say hi" }], max_tokens: 20, stream: true, stream_options: { include_usage: true } });
    let n = 0, usage = null;
    for await (const c of s) { if (c.choices[0]?.delta?.content) n++; if (c.usage) usage = c.usage; }
    if (!n || !usage) throw new Error("no content or usage");
    return `${n} chunks, usage ${usage.prompt_tokens}+${usage.completion_tokens}`;
  });
  await run("json_schema (local)", async () => {
    const r = await client.chat.completions.create({ model: a.local, max_tokens: 60,
      messages: [{ role: "user", content: "Invent a person: a name and an age." }],
      response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema: a.person } } });
    return JSON.stringify(JSON.parse(r.choices[0].message.content));
  });
  await run("runTools (fake)", async () => {
    const runner = client.chat.completions.runTools({ model: a.tools, messages: [{ role: "user", content: "Seoul" }],
      tools: [{ type: "function", function: { name: "weather", description: "Weather in a city",
        parameters: WEATHER.function.parameters, function: (args) => "Sunny in " + args.city, parse: JSON.parse } }] });
    const text = await runner.finalContent();
    if (!text.includes("Sunny in Seoul")) throw new Error(text);
    return JSON.stringify(text);
  });
  await run("refusal: tools on plain", async () => {
    try { await client.chat.completions.create({ model: a.plain, messages: [{ role: "user", content: "x" }], tools: [WEATHER] }); }
    catch (e) { if (e.status === 400 && e.param === "tools") return `refused as expected: ${e.constructor.name} ${e.status} param=${e.param}: ${e.message}`; throw e; }
    throw new Error("accepted");
  });
  console.log(JSON.stringify(out));
})();
