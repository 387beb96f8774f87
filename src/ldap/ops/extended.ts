// Extended operations: WhoAmI (RFC 4532). StartTLS is the connection's (it takes the socket
// over) and reaches this handler only where TLS cannot be had; any other name is a
// protocolError, as RFC 4511 §4.12 requires.
import type { Session } from '../context.js';
import { ResultCode, type RequestOf, type Result } from '../protocol.js';

export const WHOAMI = '1.3.6.1.4.1.4203.1.11.3';
export const STARTTLS = '1.3.6.1.4.1.1466.20037';
/** The root DSE's supportedExtension: both are implemented on every listener (StartTLS
 * answers unavailable where no certificate is configured), so clients that look for StartTLS
 * there before upgrading find it. */
export const SUPPORTED_EXTENSIONS = [WHOAMI, STARTTLS];
/** Password Modify (RFC 3062), listed only where writes.passwordModify is on. */
export const PASSWORD_MODIFY = '1.3.6.1.4.1.4203.1.11.1';
const WITH_PASSWORD_MODIFY = [...SUPPORTED_EXTENSIONS, PASSWORD_MODIFY];

/** The root DSE's supportedExtension for this server. */
export function supportedExtensions(passwordModify: boolean): string[] {
  return passwordModify ? WITH_PASSWORD_MODIFY : SUPPORTED_EXTENSIONS;
}

/** An ExtendedResponse: the result, and the responseName and responseValue it carries. */
export interface ExtendedResult extends Result {
  name?: string;
  value?: Buffer;
  /** For the log line: whose password a Password Modify was about. */
  target?: string;
}

const NO_TLS: ExtendedResult = Object.freeze({ code: ResultCode.unavailable, message: 'TLS is not configured on this listener', name: STARTTLS });

export function extended(session: Session, req: RequestOf<'extended'>): ExtendedResult {
  if (req.oid === WHOAMI) {
    const id = session.identity;
    return { code: ResultCode.success, value: Buffer.from(id.kind === 'anonymous' ? '' : `dn:${id.dn}`, 'utf8') };
  }
  if (req.oid === STARTTLS) return NO_TLS;
  return { code: ResultCode.protocolError, message: `unsupported extended operation ${req.oid}` };
}
