package io.kvx.proxy.userspace;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.unix.Socket;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.channel.uring.IoUringSocketChannel;

import java.io.IOException;

/**
 * Relays an established client/backend pair straight on the event loop's io_uring, without a Netty
 * pipeline: once both connections are up, their channels are deregistered and each socket is
 * registered again as a bare {@link IoUringIoHandle}. Each direction is one receive into the reading
 * side's buffer, then one send of what it got to the other side, then the next receive: the loop
 * submits the receives and sends of all its connections together, one io_uring_enter per turn, with
 * no per-message buffers, promises or handler calls.
 * <p>
 * A receive of 0 bytes is the end of that side's input: the other side's output is shut once the last
 * send finished (half-close passes through), and a socket closes once both its directions are done.
 * A failed receive or send (reset, broken pipe) closes both.
 */
final class IoUringRelay {

  /** Per direction: as nginx's stream proxy_buffer_size. */
  private static final int BUFFER_BYTES = 16 * 1024;
  private static final byte IORING_OP_SEND = 26;
  private static final byte IORING_OP_RECV = 27;
  private static final int ECANCELED = 125;
  /** Receive buffers taken from the pool and not yet given back (for tests: a closed pair leaves none). */
  static final java.util.concurrent.atomic.AtomicInteger BUFFERS_HELD = new java.util.concurrent.atomic.AtomicInteger();

  private IoUringRelay() {
  }

  /** Both channels io_uring sockets on one io_uring event loop. */
  static boolean usable(Channel in, Channel out) {
    return in instanceof IoUringSocketChannel && out instanceof IoUringSocketChannel
        && in.eventLoop() == out.eventLoop() && in.eventLoop() instanceof IoEventLoop
        && in.eventLoop().inEventLoop();
  }

  /**
   * Takes over both connected sockets (neither has read anything yet: autoRead is off). Called on
   * their event loop.
   */
  static void start(Channel in, Channel out) {
    RelaySide.start(in, out, new Side(in, (Socket) ((IoUringSocketChannel) in).fd()),
        new Side(out, (Socket) ((IoUringSocketChannel) out).fd()));
  }

  /** One socket of the pair: receives into its buffer, and sends what its peer received. */
  private static final class Side extends RelaySide<Side> implements IoUringIoHandle {
    /** Kept so that nothing closes the socket under the relay; the channel itself is no longer used. */
    @SuppressWarnings("unused")
    private final Channel channel;
    /**
     * The receive buffer (pooled, direct). The kernel may use it until the ring has completed every
     * receive into it and every send out of it (the peer's), so it goes back to the pool only once
     * both sides' registrations are gone ({@link #unregistered}).
     */
    private final ByteBuf buffer = PooledByteBufAllocator.DEFAULT.directBuffer(BUFFER_BYTES, BUFFER_BYTES);
    private final long address = buffer.memoryAddress();
    /** The loop is done with this side: its registration is gone (no completion outstanding) or never came. */
    private boolean done;
    private boolean released;
    /** Bytes of the peer's buffer still to send on this socket, from {@link #sendOffset}. */
    private int sendOffset;
    private int sendEnd;
    private boolean sending;

    Side(Channel channel, Socket socket) {
      super(socket);
      this.channel = channel;
      BUFFERS_HELD.incrementAndGet();
    }

    @Override
    void startRelaying() {
      receive();
      // The peer may already have received something to send on this socket (its registration came first).
      if (sending) submitSend();
    }

    @Override
    void notRegistered() {
      unregistered();
    }

    private void receive() {
      if (closed || inputEnded || registration == null) return;
      registration.submit(new IoUringIoOps(IORING_OP_RECV, (byte) 0, (short) 0, socket.intValue(), 0L, address,
          BUFFER_BYTES, 0, (short) 0, (short) 0, (short) 0, 0, 0L));
    }

    /** Sends bytes [from, to) of the peer's buffer on this socket; the peer receives again once all went. */
    private void send(int from, int to) {
      sendOffset = from;
      sendEnd = to;
      sending = true;
      if (registration != null) submitSend();
    }

    private void submitSend() {
      registration.submit(new IoUringIoOps(IORING_OP_SEND, (byte) 0, (short) 0, socket.intValue(), 0L,
          peer.address + sendOffset, sendEnd - sendOffset, 0, (short) 0, (short) 0, (short) 0, 0, 0L));
    }

    @Override
    public void handle(IoRegistration reg, IoEvent event) {
      if (closed) return;
      IoUringIoEvent e = (IoUringIoEvent) event;
      int res = e.res();
      try {
        if (e.opcode() == IORING_OP_RECV) {
          received(res);
        } else if (e.opcode() == IORING_OP_SEND) {
          sent(res);
        }
      } catch (IOException | RuntimeException x) {
        // Nothing may escape to the loop: the pair is over.
        closePair();
      }
    }

    private void received(int res) throws IOException {
      if (res > 0) {
        if (peer.closed) {
          // the peer is gone: nothing read here can go anywhere
          inputEnded = true;
          settle();
          return;
        }
        peer.send(0, res);
      } else if (res == 0) {
        inputEnded = true;
        peer.settle();
        settle();
      } else if (res != -ECANCELED) {
        closePair();
      }
    }

    private void sent(int res) throws IOException {
      if (res < 0) {
        if (res != -ECANCELED) closePair();
        return;
      }
      sendOffset += res;
      if (sendOffset < sendEnd) {
        submitSend();
        return;
      }
      sending = false;
      peer.receive();
      settle();
    }

    @Override
    boolean writing() {
      return sending;
    }

    /** Neither side was registered: the loop has nothing of theirs, the buffers go back now. */
    @Override
    void handOverFailed() {
      closePair();
      unregistered();
      peer.unregistered();
    }

    @Override
    void closeSide() {
      if (closed) return;
      closed = true;
      // A receive still in the ring holds the socket open past close(2): shut it down first, which ends
      // the connection at once and completes that receive (ignored from here on).
      try {
        socket.shutdown(true, true);
      } catch (IOException | RuntimeException ignored) {
        // not connected any more (Netty throws NotYetConnectedException for ENOTCONN)
      }
      if (registration != null) registration.cancel();
      try {
        socket.close();
      } catch (IOException | RuntimeException ignored) {
        // already gone
      }
    }

    @Override
    public void close() {
      closePair(); // the event loop is shutting down
    }

    /** The loop is done with this side: once it is with the peer too, no operation uses either buffer. */
    @Override
    public void unregistered() {
      done = true;
      if (peer.done && !released) {
        released = peer.released = true;
        buffer.release();
        peer.buffer.release();
        BUFFERS_HELD.addAndGet(-2);
      }
    }
  }
}
