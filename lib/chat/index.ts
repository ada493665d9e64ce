export { createResponder, crawledContentResponder, openAiResponder, searchPages, NO_ANSWER_REPLY } from './responder';
export type { Passage } from './responder';
