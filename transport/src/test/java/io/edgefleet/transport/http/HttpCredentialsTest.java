package io.edgefleet.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

class HttpCredentialsTest {
    private final Consumer<HttpClient.Builder> settings = b -> b.version(HttpClient.Version.HTTP_1_1);

    @Test
    void the_client_is_reused_until_the_supplier_hands_out_a_renewed_context() throws Exception {
        AtomicReference<SSLContext> current = new AtomicReference<>(SSLContext.getInstance("TLS"));
        current.get().init(null, null, null);
        HttpCredentials c = HttpCredentials.tls(current::get);
        HttpClient first = c.client(settings);
        assertThat(c.client(settings)).isSameAs(first);
        assertThat(first.sslContext()).isSameAs(current.get());
        SSLContext renewed = SSLContext.getInstance("TLS");
        renewed.init(null, null, null);
        current.set(renewed);
        HttpClient second = c.client(settings);
        assertThat(second).isNotSameAs(first);
        assertThat(second.sslContext()).isSameAs(renewed);
    }

    @Test
    void a_bearer_token_is_added_only_when_configured_and_never_printed() {
        HttpRequest plain = HttpCredentials.none().authorize(HttpRequest.newBuilder(URI.create("https://x/"))).build();
        assertThat(plain.headers().firstValue("Authorization")).isEmpty();
        HttpCredentials withToken = HttpCredentials.none().withBearer(() -> "secret-token-0123456789");
        HttpRequest r = withToken.authorize(HttpRequest.newBuilder(URI.create("https://x/"))).build();
        assertThat(r.headers().firstValue("Authorization")).hasValue("Bearer secret-token-0123456789");
        assertThat(withToken.toString()).doesNotContain("secret");
        assertThat(withToken.hasBearer()).isTrue();
        assertThat(withToken.hasTls()).isFalse();
    }
}
