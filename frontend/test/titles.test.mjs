// Titles cut at a word boundary (the client's half of core/titles.py's rule).
import assert from "node:assert/strict";
import { test } from "node:test";
import { cutAtWord } from "../src/titles.js";

test("a short title is kept, its whitespace tidied", () => {
  assert.equal(cutAtWord("  How do I   sort\na list?  ", 60), "How do I sort a list?");
  assert.equal(cutAtWord("", 60), "");
  assert.equal(cutAtWord(null, 60), "");
  assert.equal(cutAtWord(undefined, 60), "");
});

test("a long one is cut at the last space that fits, never inside a word", () => {
  const text = "Explain the difference between processes and threads in operating systems, with examples";
  assert.equal(cutAtWord(text, 60), "Explain the difference between processes and threads in");
  assert.equal(cutAtWord("Summarise the following points for me: speed, cost, safety, and then reliability", 60),
    "Summarise the following points for me: speed, cost, safety"); // no dangling comma
});

test("Korean words are spaced: cut between them", () => {
  const text = "서울에서 부산까지 기차로 가는 가장 빠른 방법과 요금을 비교해서 알려주실 수 있나요? 주말과 평일 기준으로 각각 알려주세요";
  assert.equal(cutAtWord(text, 60), "서울에서 부산까지 기차로 가는 가장 빠른 방법과 요금을 비교해서 알려주실 수 있나요? 주말과 평일 기준으로");
  const list = "오늘 회의에서 나온 안건을 정리해 주세요: 예산, 일정, 인력 배치, 외부 협력사 선정, 대외 홍보 계획, 그리고 다음 회의 날짜까지요";
  assert.equal(cutAtWord(list, 60), "오늘 회의에서 나온 안건을 정리해 주세요: 예산, 일정, 인력 배치, 외부 협력사 선정, 대외 홍보 계획");
});

test("one long word is cut hard and ends with an ellipsis, within the limit", () => {
  assert.equal(cutAtWord("x".repeat(80), 60), `${"x".repeat(59)}…`);
  const korean = "마크다운으로작성된문서를".repeat(8);
  assert.equal(cutAtWord(korean, 60), `${korean.slice(0, 59)}…`);
  // Code points, not UTF-16 units: an emoji is not split in half.
  const emoji = "😀".repeat(70);
  assert.equal([...cutAtWord(emoji, 60)].length, 60);
  assert.equal(cutAtWord(emoji, 60), `${"😀".repeat(59)}…`);
});
