using System.Runtime.CompilerServices;

namespace Tripswitch.Controller;

/// <summary>
/// Gives every live thread a small dense index (0, 1, 2, …): the identity of the owner of a counter slot, and where
/// in a circuit's slot array that slot sits. The index of a thread that ended is handed to the next new thread (which
/// then continues the ended thread's slots), so indices stay as few as the threads alive at once.
/// </summary>
internal static class ThreadSlotIndex
{
    private static readonly Lock s_lock = new();
    private static readonly Stack<int> s_free = new();
    private static int s_next;

    // 1-based so that 0 means "not assigned yet".
    [ThreadStatic]
    private static int t_indexPlusOne;

    [ThreadStatic]
    private static Releaser? t_releaser;

    public static int Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int index = t_indexPlusOne - 1;
            return index >= 0 ? index : Assign();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Assign()
    {
        int index;
        lock (s_lock)
        {
            index = s_free.Count > 0 ? s_free.Pop() : s_next++;
        }

        t_releaser = new Releaser(index);
        t_indexPlusOne = index + 1;
        return index;
    }

    /// <summary>
    /// Only this thread's thread-static field references it, so it becomes unreachable when the thread ends; its
    /// finalizer then returns the index. Everything the ended thread wrote happens-before that (thread exit, GC, lock).
    /// </summary>
    private sealed class Releaser(int index)
    {
        ~Releaser()
        {
            lock (s_lock)
            {
                s_free.Push(index);
            }
        }
    }
}
