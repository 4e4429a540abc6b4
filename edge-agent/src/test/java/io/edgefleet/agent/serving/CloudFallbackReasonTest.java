package io.edgefleet.agent.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Why the cloud did not answer, as the escalation parameter and the 503 tell a client: the JDK's
 * HTTP client throws a refused connection without a message, which gave "ConnectException" (a
 * Java class name) or "null".
 */
class CloudFallbackReasonTest {
    @Test
    void failures_are_said_in_words_without_class_names_or_null() {
        assertThat(CloudFallback.reason(new ConnectException())).isEqualTo("connection refused");
        assertThat(CloudFallback.reason(new IOException(new ConnectException()))).isEqualTo("connection refused");
        assertThat(CloudFallback.reason(new HttpTimeoutException("request timed out"))).isEqualTo("no answer in time");
        assertThat(CloudFallback.reason(new IOException((String) null))).isEqualTo("the connection failed");
        assertThat(CloudFallback.reason(new IOException("HTTP/1.1 header parser received no bytes")))
                .isEqualTo("HTTP/1.1 header parser received no bytes");
    }
}
