// The token verifier is the kit's (the audit service verifies parties' tokens too); the gateway's refuses with a
// GatewayError, which its edge audits and maps like every other refusal.
import {
  createTokenVerifier as kitTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "@grondslag/kit";
import { GatewayError } from "../errors";

export { ACCEPTED_ALGORITHMS, type TokenVerifier, type TokenVerifierOptions } from "@grondslag/kit";

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  return kitTokenVerifier({
    refuse: (detail, fix, cause) => new GatewayError("UNAUTHENTICATED", detail, fix, { cause }),
    ...options,
  });
}
