package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.edgefleet.cloud.access.AccessSettings;
import io.edgefleet.cloud.access.JwtVerifier;
import io.edgefleet.cloud.access.OidcSettings;
import io.edgefleet.cloud.access.Principal;
import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.client.CloudClient;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * OIDC / JWT bearer tokens against a real control plane and a real HTTP server (started here)
 * serving the issuer's JWKS; tokens are signed by test RSA and EC keys. Each refusal the issue
 * names is a 401 {@code invalid_token} over HTTP.
 */
class OidcAccessTest {
    static final String ISSUER = "https://login.example.test/realms/ops";
    static final String AUDIENCE = "edgefleet";
    @TempDir
    static Path dir;
    static HttpServer jwks;
    static final AtomicReference<String> JWKS_BODY = new AtomicReference<>();
    static RSAKey rsa;
    static ECKey ec;
    static ControlPlane cp;

    @BeforeAll
    static void start() throws Exception {
        rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        JWKS_BODY.set(new JWKSet(List.<JWK>of(rsa.toPublicJWK(), ec.toPublicJWK())).toString());
        jwks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        jwks.createContext("/jwks", x -> {
            byte[] b = JWKS_BODY.get().getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        jwks.start();
        cp = ControlPlane.start(CloudTestSupport.config(dir).withAccess(AccessSettings.defaults().withOidc(settings())));
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
        jwks.stop(0);
    }

    static OidcSettings settings() {
        return new OidcSettings(ISSUER, AUDIENCE, URI.create("http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks"));
    }

    static JWTClaimsSet.Builder claims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(ISSUER).audience(AUDIENCE).subject("alice@example.test")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofMinutes(10))))
                .claim("scope", "fleet:read rollouts:read openid profile");
    }

    static String sign(JWK key, JWSSigner signer, JWSAlgorithm alg, JWTClaimsSet c) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(key.getKeyID()).build(), c);
        jwt.sign(signer);
        return jwt.serialize();
    }

    static String rsaSigned(UnaryOperator<JWTClaimsSet.Builder> edit) throws Exception {
        return sign(rsa, new RSASSASigner(rsa), JWSAlgorithm.RS256, edit.apply(claims()).build());
    }

    @Test
    void a_valid_rsa_jwt_is_accepted_with_its_scopes_and_audited_by_subject() {
        CloudClient alice = CloudTestSupport.client(cp, uncheck(() -> rsaSigned(b -> b)));
        assertThat(alice.get("/api/v1/devices").status()).isEqualTo(200);
        assertThat(alice.get("/api/v1/rollouts").status()).isEqualTo(200);
        CloudClient.Response write = alice.put("/api/v1/fleets/f/devices/d", Map.of());
        assertThat(write.status()).isEqualTo(403);
        assertThat(write.json().get("scope").asText()).isEqualTo("fleet:write");
        JsonNode audit = CloudTestSupport.client(cp, OPERATOR).get("/api/v1/audit?actor=alice@example.test").json();
        assertThat(audit).anySatisfy(e -> {
            assertThat(e.get("actorKind").asText()).isEqualTo("jwt");
            assertThat(e.get("status").asInt()).isEqualTo(403);
            assertThat(e.get("route").asText()).isEqualTo("/api/v1/fleets/{f}/devices/{d}");
        });
    }

    @Test
    void a_valid_ec_jwt_with_an_scp_list_is_accepted() throws Exception {
        String jwt = sign(ec, new ECDSASigner(ec), JWSAlgorithm.ES256, claims().claim("scope", null)
                .claim("scp", List.of("fleet:write", "fleet:read")).build());
        CloudClient bob = CloudTestSupport.client(cp, jwt);
        assertThat(bob.put("/api/v1/fleets/f/devices/d", Map.of()).status()).isEqualTo(200);
        assertThat(bob.get("/api/v1/models").status()).isEqualTo(403);
    }

    @Test
    void an_rfc_9068_access_token_typed_at_jwt_is_accepted() throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(rsa.getKeyID())
                .type(new com.nimbusds.jose.JOSEObjectType("at+jwt")).build(), claims().build());
        jwt.sign(new RSASSASigner(rsa));
        assertThat(CloudTestSupport.client(cp, jwt.serialize()).get("/api/v1/devices").status()).isEqualTo(200);
    }

    static Stream<Arguments> refused() throws Exception {
        Instant now = Instant.now();
        RSAKey stranger = new RSAKeyGenerator(2048).keyID("rsa-unknown").generate();
        // "HS256 with the public key as the secret": the classic algorithm-confusion forgery
        byte[] publicKeyAsSecret = rsa.toPublicJWK().toRSAPublicKey().getEncoded();
        return Stream.of(
                Arguments.of("expired", rsaSigned(b -> b.expirationTime(Date.from(now.minus(Duration.ofMinutes(10)))))),
                Arguments.of("not yet valid", rsaSigned(b -> b.notBeforeTime(Date.from(now.plus(Duration.ofMinutes(10)))))),
                Arguments.of("wrong audience", rsaSigned(b -> b.audience("someone-else"))),
                Arguments.of("wrong issuer", rsaSigned(b -> b.issuer("https://evil.example.test"))),
                Arguments.of("no expiry", rsaSigned(b -> b.expirationTime(null))),
                Arguments.of("unknown key id", sign(stranger, new RSASSASigner(stranger), JWSAlgorithm.RS256, claims().build())),
                Arguments.of("signed by another key under a known key id",
                        sign(rsa, new RSASSASigner(stranger), JWSAlgorithm.RS256, claims().build())),
                Arguments.of("alg none", new PlainJWT(claims().build()).serialize()),
                Arguments.of("HS256 with the public key as secret",
                        sign(rsa, new MACSigner(publicKeyAsSecret), JWSAlgorithm.HS256, claims().build())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refused_jwts_get_401_invalid_token(String why, String jwt) {
        CloudClient.Response r = CloudTestSupport.client(cp, jwt).get("/api/v1/devices");
        assertThat(r.status()).as(why).isEqualTo(401);
        assertThat(r.problem()).contains("JWT is not valid");
        // the sanity check that this refusal is about the token: the same request with a good one passes
        assertThat(CloudTestSupport.client(cp, uncheck(() -> rsaSigned(b -> b))).get("/api/v1/devices").status()).isEqualTo(200);
    }

    @Test
    void a_rotated_key_is_fetched_when_a_token_names_its_key_id() throws Exception {
        AtomicReference<String> before = new AtomicReference<>(JWKS_BODY.get());
        JwtVerifier v = new JwtVerifier(settings());
        assertThat(v.verify(rsaSigned(b -> b))).map(Principal::name).hasValue("alice@example.test");
        RSAKey next = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
        JWKS_BODY.set(new JWKSet(List.<JWK>of(rsa.toPublicJWK(), ec.toPublicJWK(), next.toPublicJWK())).toString());
        try {
            Optional<Principal> p = v.verify(sign(next, new RSASSASigner(next), JWSAlgorithm.RS256, claims().subject("carol").build()));
            assertThat(p).map(Principal::name).hasValue("carol");
            assertThat(p.get().scopes()).containsExactlyInAnyOrder(Scope.FLEET_READ, Scope.ROLLOUTS_READ);
        } finally {
            JWKS_BODY.set(before.get());
        }
    }

    @Test
    void an_api_token_still_works_beside_oidc_and_a_jwt_is_never_taken_for_one() {
        assertThat(CloudTestSupport.client(cp, OPERATOR).get("/api/v1/devices").status()).isEqualTo(200);
        // a JWT whose text was registered as an API token secret is still verified as a JWT
        String forged = new PlainJWT(claims().build()).serialize();
        cp.tokenStore().ensure("planted", Set.of(Scope.FLEET_READ), forged, "test");
        assertThat(CloudTestSupport.client(cp, forged).get("/api/v1/devices").status()).isEqualTo(401);
    }

    interface Thrower<T> {
        T get() throws Exception;
    }

    static <T> T uncheck(Thrower<T> t) {
        try {
            return t.get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
