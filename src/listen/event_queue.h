/* The activity record's writer in `kunci serve` (core/events.h): installed as the events'
 * sink, it writes them in batches off the request threads. */
#ifndef KUNCI_LISTEN_EVENT_QUEUE_H
#define KUNCI_LISTEN_EVENT_QUEUE_H

#include "core/events.h"

struct event_queue;
/* Called on the writer thread with each event once it is stored. */
typedef void (*event_written_fn)(void *arg, const struct kunci_event *ev);

/* Starts the writer thread and installs the sink (listen_thread_store_init first). */
int event_queue_start(event_written_fn written, void *arg, struct event_queue **q_r);
/* Uninstalls the sink, writes what is queued (if the database is there), and frees. */
void event_queue_stop(struct event_queue *q);

#endif
