package io.edgefleet.cloud.pki;

/**
 * A refused enrolment, renewal or token operation, with the HTTP status it maps to: 400 (malformed
 * request, CSR that does not verify), 401 (enrolment token or renewal proof not valid: unknown,
 * expired, used up, revoked), 403 (a device token used for another device), 404 (unknown token
 * or device), 409 (a fleet token for a device that is already enrolled). The message names the rule and never the secret. Final: retrying the same request
 * gives the same answer.
 */
public final class PkiException extends io.edgefleet.cloud.api.ApiException {
    public PkiException(int status, String title, String detail) {
        super(status, title, detail);
    }

    static PkiException unauthorized(String detail) {
        return new PkiException(401, "Unauthorized", detail);
    }

    static PkiException badRequest(String detail) {
        return new PkiException(400, "Bad request", detail);
    }
}
