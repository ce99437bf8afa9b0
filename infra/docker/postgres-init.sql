CREATE DATABASE grondslag_registry;
