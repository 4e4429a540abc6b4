package io.edgefleet.agent.coap;

/**
 * How the agent's CoAP side sizes its messages (RFC 7252 section 4.6, RFC 7959).
 *
 * <p>A request whose payload fits {@code maxMessageBytes} (plus {@value #HEADER_ALLOWANCE_BYTES} bytes,
 * see {@link #maxAcceptedPayloadBytes()}) may come as one datagram and is answered in one exchange; a
 * larger one must come block-wise (Block1). A single datagram carrying more than that is answered 4.13 Request Entity Too Large with Size1 (the largest body the
 * agent takes, block-wise) and a Block1 option naming the block size to use (RFC 7959 sections 2.9.3
 * and 4), never dropped: the agent reads datagrams up to {@value #RECEIVE_DATAGRAM_BYTES} bytes
 * whatever this setting says. A response larger than {@code maxMessageBytes} goes back block-wise
 * (Block2) in blocks of {@code blockSizeBytes}.
 *
 * @param maxMessageBytes the largest payload carried in one datagram, both ways; default
 *     {@value #DEFAULT_MAX_MESSAGE_BYTES} (RFC 7252's 1152-byte message with a 1024-byte payload, which
 *     fits an IPv6 minimum MTU of 1280); up to {@value #MAX_MESSAGE_BYTES_LIMIT} on loopback or a
 *     LAN whose path MTU (or IP fragmentation) carries it; over DTLS at most
 *     {@value #MAX_DTLS_MESSAGE_BYTES} (one DTLS record of 2^14 bytes, less headers)
 * @param blockSizeBytes the block size of block-wise transfers: 16, 32, ..., 1024 (SZX 0..6);
 *     default 1024. BERT (RFC 8323) exists only for CoAP over TCP, which the agent does not serve
 */
public record CoapTransfer(int maxMessageBytes, int blockSizeBytes) {
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 1024;
    public static final int DEFAULT_BLOCK_SIZE_BYTES = 1024;
    /** The largest UDP payload over IPv4 (65,535 less the IP and UDP headers) less CoAP's header and options. */
    public static final int MAX_MESSAGE_BYTES_LIMIT = 65_000;
    /** One DTLS record holds at most 2^14 bytes of plaintext; this leaves room for CoAP's header and options. */
    public static final int MAX_DTLS_MESSAGE_BYTES = 16_000;
    /** The receive buffer of the plain UDP socket: the largest datagram IPv4 and IPv6 carry without jumbograms. */
    public static final int RECEIVE_DATAGRAM_BYTES = 65_535;

    public CoapTransfer {
        if (maxMessageBytes < 16 || maxMessageBytes > MAX_MESSAGE_BYTES_LIMIT) {
            throw new IllegalArgumentException("coap.max-message-bytes must be 16.." + MAX_MESSAGE_BYTES_LIMIT + ", got " + maxMessageBytes);
        }
        if (blockSizeBytes < 16 || blockSizeBytes > 1024 || Integer.bitCount(blockSizeBytes) != 1) {
            throw new IllegalArgumentException("coap.block-size-bytes must be one of 16, 32, 64, 128, 256, 512, 1024 (RFC 7959 SZX 0..6), got "
                    + blockSizeBytes);
        }
    }

    /** 1024-byte datagrams and 1024-byte blocks: RFC 7252's size, safe on any IPv6 path. */
    public static CoapTransfer defaults() {
        return new CoapTransfer(DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_BLOCK_SIZE_BYTES);
    }

    /**
     * RFC 7252 section 4.6 sizes a message at 1152 bytes for a 1024-byte payload: 128 bytes for the header
     * and options. A peer that counts the whole message (libcoap sends 1152-byte PDUs) may put up to that
     * much payload in a datagram; the agent takes it.
     */
    public static final int HEADER_ALLOWANCE_BYTES = 128;

    /**
     * The largest payload the agent takes in a single datagram: {@code maxMessageBytes} plus the
     * {@value #HEADER_ALLOWANCE_BYTES} bytes RFC 7252 allows for the header and options (1152 by default).
     * More gets 4.13.
     */
    public int maxAcceptedPayloadBytes() {
        return maxMessageBytes + HEADER_ALLOWANCE_BYTES;
    }

    /** The block size as RFC 7959's SZX exponent: size = 2^(SZX+4). */
    public int szx() {
        return Integer.numberOfTrailingZeros(blockSizeBytes) - 4;
    }

    /**
     * Refuses a datagram size that cannot travel in one DTLS record.
     *
     * @throws IllegalArgumentException when {@link #maxMessageBytes} exceeds {@value #MAX_DTLS_MESSAGE_BYTES}
     */
    public CoapTransfer requireDtlsFit() {
        if (maxMessageBytes > MAX_DTLS_MESSAGE_BYTES) {
            throw new IllegalArgumentException("coap.max-message-bytes over DTLS must be at most " + MAX_DTLS_MESSAGE_BYTES
                    + " (one DTLS record), got " + maxMessageBytes);
        }
        return this;
    }
}
