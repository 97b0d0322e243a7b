package io.kvx.proxy.ipvs;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds one generic-netlink request: {@code struct nlmsghdr} (len u32, type u16, flags u16, seq u32,
 * pid u32), {@code struct genlmsghdr} (cmd u8, version u8, reserved u16), then attributes
 * ({@code struct nlattr}: len u16 counting its 4-byte header but not the padding, type u16; payload
 * padded to 4 bytes). Host byte order except where the kernel wants network order (ports,
 * addresses). Nested attributes carry {@code NLA_F_NESTED}. Pure: bytes out, and a small parser for
 * replies.
 */
public final class NetlinkMessage {

  public static final int NLM_F_REQUEST = 0x1;
  public static final int NLM_F_ACK = 0x4;
  public static final int NLMSG_ERROR = 0x2;
  public static final int NLMSG_DONE = 0x3;
  public static final int NLA_F_NESTED = 0x8000;
  public static final int HEADER = 16;
  public static final int GENL_HEADER = 4;

  private static final ByteOrder HOST = ByteOrder.nativeOrder();

  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private final Deque<Integer> nests = new ArrayDeque<>();
  private final int type;
  private final int flags;
  private final int seq;
  private final int cmd;
  private final int version;
  private byte[] built;

  public NetlinkMessage(int type, int flags, int seq, int cmd, int version) {
    this.type = type;
    this.flags = flags;
    this.seq = seq;
    this.cmd = cmd;
    this.version = version;
  }

  public NetlinkMessage u16(int attr, int value) {
    return attr(attr, ByteBuffer.allocate(2).order(HOST).putShort((short) value).array());
  }

  public NetlinkMessage u32(int attr, int value) {
    return attr(attr, ByteBuffer.allocate(4).order(HOST).putInt(value).array());
  }

  /** A 16-bit value in network byte order (a port). */
  public NetlinkMessage be16(int attr, int value) {
    return attr(attr, ByteBuffer.allocate(2).order(ByteOrder.BIG_ENDIAN).putShort((short) value).array());
  }

  public NetlinkMessage be32(int attr, int value) {
    return attr(attr, ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(value).array());
  }

  /** A NUL-terminated string. */
  public NetlinkMessage string(int attr, String value) {
    byte[] s = value.getBytes(StandardCharsets.US_ASCII);
    byte[] z = new byte[s.length + 1];
    System.arraycopy(s, 0, z, 0, s.length);
    return attr(attr, z);
  }

  public NetlinkMessage attr(int attr, byte[] payload) {
    writeHeader(4 + payload.length, attr);
    body.writeBytes(payload);
    pad();
    return this;
  }

  /** Opens a nested attribute; its length is filled in by {@link #end()}. */
  public NetlinkMessage begin(int attr) {
    nests.push(body.size());
    writeHeader(0, attr | NLA_F_NESTED);
    return this;
  }

  public NetlinkMessage end() {
    int start = nests.pop();
    byte[] b = body.toByteArray();
    int len = b.length - start;
    ByteBuffer.wrap(b, start, 2).order(HOST).putShort((short) len);
    body.reset();
    body.writeBytes(b);
    return this;
  }

  public byte[] bytes() {
    if (!nests.isEmpty()) throw new IllegalStateException("unclosed nested attribute");
    if (built != null) return built;
    byte[] attrs = body.toByteArray();
    ByteBuffer b = ByteBuffer.allocate(HEADER + GENL_HEADER + attrs.length).order(HOST);
    b.putInt(HEADER + GENL_HEADER + attrs.length).putShort((short) type).putShort((short) flags).putInt(seq).putInt(0);
    b.put((byte) cmd).put((byte) version).putShort((short) 0);
    b.put(attrs);
    built = b.array();
    return built;
  }

  private void writeHeader(int len, int attr) {
    body.writeBytes(ByteBuffer.allocate(4).order(HOST).putShort((short) len).putShort((short) attr).array());
  }

  private void pad() {
    while (body.size() % 4 != 0) body.write(0);
  }

  /** What one reply message says: its type and, for NLMSG_ERROR, the error (0 is an ACK, else -errno). */
  public record Reply(int type, int seq, int error, Map<Integer, byte[]> attributes) {

    public int u16(int attr) {
      return Short.toUnsignedInt(ByteBuffer.wrap(attributes.get(attr)).order(HOST).getShort());
    }
  }

  /** Parses the first message of a datagram; generic-netlink top-level attributes are collected. */
  public static Reply parse(byte[] data, int length) {
    ByteBuffer b = ByteBuffer.wrap(data, 0, length).order(HOST);
    int len = b.getInt();
    int type = Short.toUnsignedInt(b.getShort());
    b.getShort();
    int seq = b.getInt();
    b.getInt();
    if (type == NLMSG_ERROR) return new Reply(type, seq, b.getInt(), Map.of());
    Map<Integer, byte[]> attrs = new HashMap<>();
    if (type != NLMSG_DONE && len >= HEADER + GENL_HEADER) {
      int pos = HEADER + GENL_HEADER;
      while (pos + 4 <= Math.min(len, length)) {
        int alen = Short.toUnsignedInt(b.getShort(pos));
        int atype = Short.toUnsignedInt(b.getShort(pos + 2)) & ~NLA_F_NESTED;
        if (alen < 4) break;
        byte[] payload = new byte[alen - 4];
        b.get(pos + 4, payload);
        attrs.put(atype, payload);
        pos += (alen + 3) & ~3;
      }
    }
    return new Reply(type, seq, 0, attrs);
  }
}
