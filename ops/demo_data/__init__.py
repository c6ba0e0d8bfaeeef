"""Demo data at any scale: organisations and their cases, written through the applications in bulk
(`satu demo-data`). people.py says who, plan.py what happens when, walks.py which steps, payloads.py what
is sent with each, bulk.py and stores.py how it is written, generator.py carries it out."""
