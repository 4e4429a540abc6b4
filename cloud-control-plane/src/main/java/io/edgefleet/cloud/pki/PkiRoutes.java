package io.edgefleet.cloud.pki;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.cloud.api.ApiException;
import io.edgefleet.cloud.api.ApiRoutes;
import io.edgefleet.cloud.access.Principal;
import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.store.StoreException;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.transport.pki.Pem;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.security.cert.CRLException;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The device-identity endpoints under {@code /api/v1} (register them before {@link ApiRoutes}, whose
 * catch-all answers 404):
 * <ul>
 * <li>{@code POST /api/v1/enrolment-tokens} (scope devices:enrol) {@code {"fleet", "device"?, "uses"?: 1, "ttlSeconds"?: 3600}} → 201
 *     with the token text, shown once; {@code GET /api/v1/enrolment-tokens} (scope fleet:read) lists them without secrets;
 *     {@code DELETE /api/v1/enrolment-tokens/{id}} (scope devices:enrol) revokes one.
 * <li>{@code POST /api/v1/enrol}: {@code Authorization: Bearer <enrolment token>}, {@code {"csr": PEM, "device"?}} → 201
 *     {@code {"identity", "certificate": PEM, "ca": PEM, "serial", "notAfter"}}.
 * <li>{@code POST /api/v1/certificates/renew}: {@code {"certificate": PEM, "csr": PEM, "signature": base64}} → 201, same shape.
 * <li>{@code POST /api/v1/fleets/{f}/devices/{d}/revoke} (operator) → 200 {@code {"identity", "revoked": [serials]}}.
 * <li>{@code GET /api/v1/pki/ca.pem} ({@code application/x-pem-file}), {@code GET /api/v1/pki/crl} (DER,
 *     {@code application/pkix-crl}, RFC 5280): public, no token.
 * </ul>
 * Errors are problem JSON; a bad enrolment token or renewal proof is 401 with {@code WWW-Authenticate}.
 * Handlers are blocking code on Helidon's virtual threads.
 */
public final class PkiRoutes {
    private static final System.Logger LOG = System.getLogger(PkiRoutes.class.getName());
    private static final int MAX_BODY = 64 * 1024;
    private static final ObjectMapper MAPPER = Json.jsonMapper(DecodeLimits.DEFAULT.withMaxMessageBytes(MAX_BODY));

    private final DevicePki pki;
    private final java.util.Optional<io.edgefleet.cloud.api.CallAudit> audit;

    public PkiRoutes(DevicePki pki) {
        this(pki, java.util.Optional.empty());
    }

    /** @param audit records every enrolment and renewal (the device as the actor when one was issued) */
    public PkiRoutes(DevicePki pki, java.util.Optional<io.edgefleet.cloud.api.CallAudit> audit) {
        this.pki = pki;
        this.audit = audit;
    }

    @FunctionalInterface
    private interface Handler {
        void handle(ServerRequest req, ServerResponse res) throws Exception;
    }


    /** Registers the routes: the operators' through {@code api} (scopes, audit), the devices' and the public ones directly. */
    public void routing(HttpRouting.Builder r, ApiRoutes api) {
        api.register(r, Method.POST, "/api/v1/enrolment-tokens", Scope.DEVICES_ENROL, this::createToken);
        api.register(r, Method.GET, "/api/v1/enrolment-tokens", Scope.FLEET_READ, (q, s, t) -> json(s, 200, pki.tokens().list()));
        api.register(r, Method.DELETE, "/api/v1/enrolment-tokens/{id}", Scope.DEVICES_ENROL, (q, s, t) ->
                json(s, 200, pki.tokens().revoke(q.path().pathParameters().get("id"), t.name())));
        api.register(r, Method.POST, "/api/v1/fleets/{f}/devices/{d}/revoke", Scope.DEVICES_REVOKE, (q, s, t) -> {
            Revocation rv = pki.revoke(q.path().pathParameters().get("f"), q.path().pathParameters().get("d"), t.name());
            json(s, 200, Map.of("identity", rv.identity().commonName(), "revokedAt", rv.at().toString(),
                    "revoked", rv.serials().stream().map(x -> x.toString(16)).toList()));
        });
        api.registerPublic(r, Method.POST, "/api/v1/enrol", (req, res) -> audited(req, res, "/api/v1/enrol", this::enrol));
        api.registerPublic(r, Method.POST, "/api/v1/certificates/renew", (req, res) -> audited(req, res, "/api/v1/certificates/renew", this::renew));
        api.registerPublic(r, Method.GET, "/api/v1/pki/ca.pem", (req, res) -> run(req, res, (q, s) -> s.status(Status.OK_200)
                .header(HeaderNames.CONTENT_TYPE, "application/x-pem-file").send(Pem.write(pki.authority().certificate()))));
        api.registerPublic(r, Method.GET, "/api/v1/pki/crl", (req, res) -> run(req, res, (q, s) -> {
            byte[] der;
            try {
                der = pki.crl().getEncoded();
            } catch (CRLException e) {
                throw new IllegalStateException(e);
            }
            s.status(Status.OK_200).header(HeaderNames.CONTENT_TYPE, "application/pkix-crl").send(der);
        }));
    }

    private void createToken(ServerRequest q, ServerResponse s, Principal who) throws Exception {
        JsonNode b = body(q);
        String fleet = text(b, "fleet").orElseThrow(() -> PkiException.badRequest("'fleet' is required"));
        int uses = b.has("uses") ? intField(b, "uses") : 1;
        long ttl = b.has("ttlSeconds") ? intField(b, "ttlSeconds") : 3600;
        EnrolmentTokens.Created c = pki.tokens().create(fleet, text(b, "device"), uses, Duration.ofSeconds(ttl), who.name());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("token", c.token());
        out.put("caSha256", c.caSha256());
        out.putAll(MAPPER.convertValue(c.info(), Map.class));
        json(s, 201, out);
    }

    private void enrol(ServerRequest q, ServerResponse s) throws Exception {
        String h = q.headers().first(HeaderNames.AUTHORIZATION)
                .orElseThrow(() -> PkiException.unauthorized("enrolment needs 'Authorization: Bearer <enrolment token>'"));
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw PkiException.unauthorized("the Authorization header is not a Bearer token");
        }
        JsonNode b = body(q);
        issued(q, s, pki.enrol(h.substring(7).strip(), text(b, "device"), text(b, "csr").orElse(null)));
    }

    private void renew(ServerRequest q, ServerResponse s) throws Exception {
        JsonNode b = body(q);
        byte[] sig;
        try {
            sig = Base64.getDecoder().decode(text(b, "signature").orElseThrow(() -> PkiException.badRequest("'signature' is required")));
        } catch (IllegalArgumentException e) {
            throw PkiException.badRequest("'signature' is not base64");
        }
        issued(q, s, pki.renew(text(b, "certificate").orElseThrow(() -> PkiException.badRequest("'certificate' is required")),
                text(b, "csr").orElse(null), sig));
    }

    /** Runs a device's call and records it in the audit: who (the identity issued, if any), the route, the status. */
    private void audited(ServerRequest req, ServerResponse res, String template, Handler h) {
        run(req, res, h);
        audit.ifPresent(a -> a.record(req, req.context().get(ISSUED, String.class)
                .map(id -> Principal.device(id, java.util.Set.of())), template, res.status().code()));
    }

    private static final String ISSUED = "edgefleet.issued-identity";

    private static void issued(ServerRequest q, ServerResponse s, DevicePki.Issued i) throws JsonProcessingException {
        q.context().register(ISSUED, i.identity().commonName());
        issued(s, i);
    }

    private static void issued(ServerResponse s, DevicePki.Issued i) throws JsonProcessingException {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("identity", i.identity().commonName());
        out.put("serial", i.certificate().getSerialNumber().toString(16));
        out.put("notBefore", i.certificate().getNotBefore().toInstant().toString());
        out.put("notAfter", i.certificate().getNotAfter().toInstant().toString());
        out.put("certificate", Pem.write(i.certificate()));
        out.put("ca", Pem.write(i.ca()));
        json(s, 201, out);
    }

    private static void run(ServerRequest req, ServerResponse res, Handler h) {
        try {
            h.handle(req, res);
        } catch (ApiException e) {
            ApiRoutes.problem(req, res, e);
        } catch (StoreException e) {
            LOG.log(System.Logger.Level.ERROR, "database failure on " + req.path().path(), e);
            ApiRoutes.problem(req, res, new ApiException(500, "Database error", "the request was not applied; see the control-plane log"));
        } catch (Exception e) {
            ApiRoutes.problem(req, res, ApiRoutes.internalError(req, e));
        }
    }

    private static JsonNode body(ServerRequest req) throws IOException {
        if (!req.content().hasEntity()) {
            return MAPPER.createObjectNode();
        }
        byte[] b;
        try (InputStream in = req.content().inputStream()) {
            b = in.readNBytes(MAX_BODY + 1);
        }
        if (b.length > MAX_BODY) {
            throw new ApiException(413, "Body too large", "bodies of these endpoints are limited to " + MAX_BODY + " bytes");
        }
        if (b.length == 0) {
            return MAPPER.createObjectNode();
        }
        try {
            JsonNode n = MAPPER.readTree(b);
            if (n == null || !n.isObject()) {
                throw PkiException.badRequest("the body must be a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw PkiException.badRequest("the body is not JSON: " + e.getOriginalMessage());
        }
    }

    private static Optional<String> text(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) {
            return Optional.empty();
        }
        if (!n.isTextual()) {
            throw PkiException.badRequest("'" + field + "' must be a string");
        }
        return Optional.of(n.asText());
    }

    private static int intField(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw PkiException.badRequest("'" + field + "' must be an integer");
        }
        return n.intValue();
    }

    private static void json(ServerResponse res, int status, Object body) throws JsonProcessingException {
        res.status(Status.create(status)).header(HeaderNames.CONTENT_TYPE, "application/json").send(MAPPER.writeValueAsBytes(body));
    }
}
