/** The responder the widget API and the queue worker use. */
import { staffHandoffResponder, type Responder } from './responder';

export const defaultResponder: Responder = staffHandoffResponder;
