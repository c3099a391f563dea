#pragma once

// A per-thread free list of blocks for the engine's small, frequent allocations (graph nodes and
// the recorded ops), used through std::allocate_shared (Note [node free list]).

#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace xgrad::detail {

// Note [node free list]: every recorded op makes a node (value, grad, edges, ~400 bytes with the
// shared_ptr control block). A long chain keeps thousands alive, which overflows glibc's
// per-thread cache, so each allocation and free went through the general bins (splitting,
// coalescing, consolidation): half the time of a 1000-op chain. Freed node blocks are kept on a
// per-thread free list (bounded) and reused, and so are the OpFunctions (autograd/tape.hpp), one
// per recorded op, in a list per size. A block freed on another thread joins that thread's list,
// which is fine since every block comes from operator new.

template <std::size_t Size>
struct FreeList {
    struct Block {
        Block* next;
    };
    static constexpr std::size_t kMaxBlocks = (std::size_t(4) << 20) / Size;  // 4 MiB per size

    Block* head = nullptr;
    std::size_t count = 0;

    ~FreeList() {
        while (head) {
            Block* b = head;
            head = head->next;
            ::operator delete(b);
        }
        destroyed() = true;
    }
    // Trivially destructible, so it stays readable after ~FreeList during thread exit.
    static bool& destroyed() {
        static thread_local bool flag = false;
        return flag;
    }
    static FreeList& local() {
        static thread_local FreeList list;
        return list;
    }
    static void* take() {
        if (!destroyed()) {
            FreeList& l = local();
            if (l.head) {
                Block* b = l.head;
                l.head = b->next;
                --l.count;
                return b;
            }
        }
        return ::operator new(Size);
    }
    static void give(void* p) {
        if (!destroyed()) {
            FreeList& l = local();
            if (l.count < kMaxBlocks) {
                auto* b = static_cast<Block*>(p);
                b->next = l.head;
                l.head = b;
                ++l.count;
                return;
            }
        }
        ::operator delete(p);
    }
};

/// std::allocator-compatible; single objects come from FreeList, arrays from operator new.
template <class U>
struct FreeListAllocator {
    using value_type = U;
    static constexpr std::size_t kBlock = sizeof(U) < sizeof(void*) ? sizeof(void*) : sizeof(U);
    static_assert(alignof(U) <= alignof(std::max_align_t),
                  "over-aligned types do not use the free list");

    FreeListAllocator() = default;
    template <class V>
    FreeListAllocator(const FreeListAllocator<V>&) noexcept {}

    U* allocate(std::size_t n) {
        if (n == 1) return static_cast<U*>(FreeList<kBlock>::take());
        return static_cast<U*>(::operator new(n * sizeof(U)));
    }
    void deallocate(U* p, std::size_t n) noexcept {
        if (n == 1) {
            FreeList<kBlock>::give(p);
        } else {
            ::operator delete(p);
        }
    }
    template <class V>
    bool operator==(const FreeListAllocator<V>&) const noexcept {
        return true;
    }
    template <class V>
    bool operator!=(const FreeListAllocator<V>&) const noexcept {
        return false;
    }
};

/// A shared node (or any small engine object) from the per-thread free list.
template <class U, class... Args>
std::shared_ptr<U> make_from_free_list(Args&&... args) {
    return std::allocate_shared<U>(FreeListAllocator<U>{}, std::forward<Args>(args)...);
}

}  // namespace xgrad::detail
