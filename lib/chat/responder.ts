/**
 * What answers a visitor's message: the implementations of the queue's `Responder` port
 * (lib/queue/responder.ts). The queue processor hands every claimed message to a responder; its
 * answer is delivered together with the message, atomically.
 *
 * The default (`createResponder`) answers from the customer's crawled site: Postgres full-text
 * search over `scraped_pages` (`crawl_pages_search`) finds the best passage, answered with its source
 * URL. When nothing on the site matches, the visitor is told so politely and the conversation is
 * handed to staff (it shows as waiting in the dashboard). With an OpenAI-compatible endpoint
 * configured (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL), the retrieved passages are given to the
 * model as context and it writes the answer instead; if that call fails, the search answer is used.
 */
import type { Config } from '@/lib/config';
import type { Db } from '@/lib/db/types';
import { createLogger } from '@/lib/log';
import type { Passage } from '@/lib/queue';
import type { Responder, Response } from '@/lib/queue/responder';

export type { Passage };

const log = createLogger('chat');

/**
 * Words the model is asked to stay within, and the tokens it may spend (≈ MAX_REPLY_CHARS / 4,
 * lib/queue/responder.ts: the processor cuts a longer reply).
 */
const MODEL_REPLY_WORDS = 200;
const MODEL_MAX_TOKENS = 800;

export const NO_ANSWER_REPLY =
  "Thanks for your question! I couldn't find the answer on our website, so I've passed it to our team — someone will reply here soon.";

export function searchPages(db: Db, customerId: string, query: string, limit = 3): Promise<Passage[]> {
  return db.rpc<Passage[]>('crawl_pages_search', { customerId, query, limit });
}

function noAnswer(): Response {
  return { reply: { content: NO_ANSWER_REPLY, metadata: { source: 'bot', answered: false } }, needsStaff: true };
}

function sourced(content: string, passages: Passage[], source: string): Response {
  return {
    reply: { content, metadata: { source, answered: true, sources: passages.map((p) => ({ url: p.url, title: p.title })) } },
    needsStaff: false,
  };
}

/**
 * Answers with the best matching passage of the customer's crawled pages and its URL (the passage
 * handed over with the message, else searched).
 */
export function crawledContentResponder(db: Db): Responder {
  return {
    passages: 1,
    async respond(message) {
      const [best] = message.passages ?? (await searchPages(db, message.customerId, message.data.text, 1));
      if (!best) return noAnswer();
      const title = best.title ? `${best.title}: ` : '';
      return sourced(`${best.passage}\n\nSource: ${title}${best.url}`, [best], 'crawled-content');
    },
  };
}

export interface OpenAiOptions {
  apiKey: string;
  /** e.g. https://api.openai.com/v1 */
  baseUrl: string;
  model: string;
  /** @default 20000 */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Retrieval-augmented answers from an OpenAI-compatible chat-completions endpoint, with the top
 * passages as context (those handed over with the message, else searched). No passage: the polite hand-off, without calling the model. A failing call
 * falls back to the search answer (a visitor always gets a reply).
 */
export function openAiResponder(db: Db, options: OpenAiOptions): Responder {
  const fetchImpl = options.fetch ?? fetch;
  return {
    passages: 3,
    async respond(message) {
      const passages = message.passages ?? (await searchPages(db, message.customerId, message.data.text, 3));
      if (passages.length === 0) return noAnswer();
      const context = passages.map((p, i) => `[${i + 1}] ${p.title} (${p.url})\n${p.passage}`).join('\n\n');
      try {
        const response = await fetchImpl(`${options.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: options.model,
            temperature: 0.2,
            max_tokens: MODEL_MAX_TOKENS,
            messages: [
              {
                role: 'system',
                content:
                  "You are a website's support assistant. Answer the visitor briefly (at most " +
                  `${MODEL_REPLY_WORDS} words) using only the numbered context ` +
                  'passages, and name the URL of the passage you used. If the context does not answer the question, say so.',
              },
              { role: 'user', content: `Context:\n${context}\n\nQuestion: ${message.data.text}` },
            ],
          }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
        const body = (await response.json()) as { choices?: { message?: { content?: unknown } }[] };
        const content = body.choices?.[0]?.message?.content;
        if (typeof content !== 'string' || content.trim() === '') throw new Error('no message content in the answer');
        return sourced(content.trim(), passages, 'llm');
      } catch (error) {
        log.warn(`chat completion failed, answering from search: ${(error as Error).message}`);
        const best = passages[0]!;
        return sourced(`${best.passage}\n\nSource: ${best.title ? `${best.title}: ` : ''}${best.url}`, [best], 'crawled-content');
      }
    },
  };
}

/** The responder the widget API and the queue worker use, for this configuration. */
export function createResponder(db: Db, config: Pick<Config, 'openai'>): Responder {
  return config.openai ? openAiResponder(db, config.openai) : crawledContentResponder(db);
}
