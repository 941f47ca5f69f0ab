"""The live side of the server, in parts with one owner each: `Rebuilder` owns the build and what
requests read of it; `startup` publishes the folder before serving; `Watcher` and `Scheduler` feed
the rebuilder changes; `Persistence` saves its state for the next start. `LiveSite` puts them
together for the app."""
