// Extended operations: WhoAmI (RFC 4532). StartTLS is answered `unavailable` until TLS is
// configured; any other name is a protocolError, as RFC 4511 §4.12 requires.
import type { BridgeContext, Session } from '../context.js';
import { encodeExtendedResult, ResultCode, type Request } from '../protocol.js';

type ExtendedRequest = Extract<Request, { op: 'extended' }>;

export const WHOAMI = '1.3.6.1.4.1.4203.1.11.3';
export const STARTTLS = '1.3.6.1.4.1.1466.20037';

export function extended(_ctx: BridgeContext, session: Session, req: ExtendedRequest): { code: number; encoded: (id: number) => Buffer } {
  if (req.oid === WHOAMI) {
    const id = session.identity;
    const authzId = id.kind === 'anonymous' ? '' : `dn:${id.dn}`;
    return { code: 0, encoded: (mid) => encodeExtendedResult(mid, { code: ResultCode.success }, undefined, Buffer.from(authzId, 'utf8')) };
  }
  if (req.oid === STARTTLS) {
    return { code: ResultCode.unavailable, encoded: (mid) => encodeExtendedResult(mid, { code: ResultCode.unavailable, message: 'TLS is not configured on this listener' }, STARTTLS) };
  }
  return { code: ResultCode.protocolError, encoded: (mid) => encodeExtendedResult(mid, { code: ResultCode.protocolError, message: `unsupported extended operation ${req.oid}` }) };
}
