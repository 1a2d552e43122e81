using System.Net;
using System.Net.Sockets;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 (a free port) in front of a replication endpoint, under the test's control: it can
/// delay every chunk it forwards, stall (hold bytes without closing: a dropped link), cut every open connection
/// mid-stream (a reset), refuse new connections, and be pointed at a new target (a restarted primary's new port).
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _sync = new();
    private readonly List<(TcpClient Client, TcpClient Server)> _open = [];
    private readonly Task _accepting;
    private IPEndPoint _target;
    private TimeSpan _delay;
    private bool _refusing;
    private TaskCompletionSource _flowing = NewFlowing(open: true);

    public FaultProxy(Uri target)
    {
        _target = EndPointOf(target);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>Where peers dial.</summary>
    public Uri Address { get; }

    /// <summary>Connections cut so far.</summary>
    public int Cuts { get; private set; }

    /// <summary>Forwards new connections to <paramref name="target"/> from now on.</summary>
    public void Retarget(Uri target)
    {
        lock (_sync)
        {
            _target = EndPointOf(target);
        }
    }

    /// <summary>Waits <paramref name="delay"/> before forwarding each chunk (zero: none).</summary>
    public void Delay(TimeSpan delay)
    {
        lock (_sync)
        {
            _delay = delay;
        }
    }

    /// <summary>Stops forwarding bytes on every connection without closing any (a stalled link); <see cref="Flow"/> resumes.</summary>
    public void Stall()
    {
        lock (_sync)
        {
            if (_flowing.Task.IsCompleted)
            {
                _flowing = NewFlowing(open: false);
            }
        }
    }

    /// <summary>Resumes forwarding after <see cref="Stall"/>.</summary>
    public void Flow()
    {
        lock (_sync)
        {
            _flowing.TrySetResult();
        }
    }

    /// <summary>Accepts and at once resets new connections (true) or forwards them again (false).</summary>
    public void Refuse(bool refuse)
    {
        lock (_sync)
        {
            _refusing = refuse;
        }
    }

    /// <summary>Resets every open connection, mid-stream.</summary>
    public void CutAll()
    {
        lock (_sync)
        {
            foreach ((TcpClient client, TcpClient server) in _open)
            {
                Reset(client);
                Reset(server);
                Cuts++;
            }

            _open.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CutAll();
        Flow();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            IPEndPoint target;
            bool refusing;
            lock (_sync)
            {
                target = _target;
                refusing = _refusing;
            }

            if (refusing)
            {
                Reset(client);
                continue;
            }

            _ = Task.Run(() => ConnectAsync(client, target));
        }
    }

    private async Task ConnectAsync(TcpClient client, IPEndPoint target)
    {
        var server = new TcpClient();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await server.ConnectAsync(target, timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            Reset(client);
            Reset(server);
            return;
        }

        lock (_sync)
        {
            _open.Add((client, server));
        }

        await Task.WhenAll(PumpAsync(client, server), PumpAsync(server, client));
        lock (_sync)
        {
            _open.Remove((client, server));
        }

        client.Dispose();
        server.Dispose();
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            NetworkStream source = from.GetStream();
            NetworkStream sink = to.GetStream();
            while (true)
            {
                int read = await source.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    to.Client.Shutdown(SocketShutdown.Send);
                    return;
                }

                Task flowing;
                TimeSpan delay;
                lock (_sync)
                {
                    flowing = _flowing.Task;
                    delay = _delay;
                }

                await flowing.WaitAsync(_stop.Token);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _stop.Token);
                }

                await sink.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            Reset(from);
            Reset(to);
        }
    }

    private static void Reset(TcpClient client)
    {
        try
        {
            client.Client.LingerState = new LingerOption(true, 0); // close with RST: the peer sees a cut, not a clean end
            client.Client.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private static TaskCompletionSource NewFlowing(bool open)
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            flowing.SetResult();
        }

        return flowing;
    }

    private static IPEndPoint EndPointOf(Uri uri) => new(IPAddress.Parse(uri.Host), uri.Port);
}
