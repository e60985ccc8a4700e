#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails
//! Integration tests: the real server on port 0 against a fresh database, for each
//! backend (PostgreSQL with `--features pg-tests`).

mod scanner;
mod servers;
mod support;

mod accounts;
mod api;
mod architecture;
mod auth;
mod backup;
mod bookings;
mod catalogue;
mod circle;
mod cli;
mod contact;
mod contract;
mod demo;
mod handling;
mod open311;
mod pages;
mod privacy;
mod register;
mod register_edit;
mod requests;
mod resident;
