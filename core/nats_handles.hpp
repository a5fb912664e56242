#pragma once
// Owning smart pointers for every nats.c handle we use. A zero-size deleter keeps each one the
// size of a raw pointer; the destroy function runs exactly once, when the owner goes away.

#include <nats/nats.h>

#include <memory>

namespace natsfn {

template <auto Fn>
struct CDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};

using ConnectionPtr = std::unique_ptr<natsConnection, CDeleter<natsConnection_Destroy>>;
using OptionsPtr = std::unique_ptr<natsOptions, CDeleter<natsOptions_Destroy>>;
// Parks the message with the thread's MsgReaper if it has one (core/msg_reaper.hpp), else
// natsMsg_Destroy.
struct MsgDeleter {
  void operator()(natsMsg* msg) const noexcept;
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;
using SubscriptionPtr = std::unique_ptr<natsSubscription, CDeleter<natsSubscription_Destroy>>;
using JsCtxPtr = std::unique_ptr<jsCtx, CDeleter<jsCtx_Destroy>>;
using KvStorePtr = std::unique_ptr<kvStore, CDeleter<kvStore_Destroy>>;
using KvEntryPtr = std::unique_ptr<kvEntry, CDeleter<kvEntry_Destroy>>;
using KvWatcherPtr = std::unique_ptr<kvWatcher, CDeleter<kvWatcher_Destroy>>;
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, CDeleter<jsStreamInfo_Destroy>>;

}  // namespace natsfn
